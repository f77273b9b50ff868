#!/usr/bin/env python
"""Why does the demo's inter-modal contrast start (or not)? Short stage-1 runs of the demo's
model on its clips (one per setting), measuring every ``--every`` iterations on a fixed batch
of training clips:

* the spread of the contrastive embeddings across clips: mean pairwise cosine of the
  instance embeddings (masked views, as the loss sees them, and the full view);
* the encoders' gradient norms from the reconstruction loss and from the weighted
  inter-modal contrast, separately (the same parameters, two backward passes);
* with ``--label-clips N``: how much category information the pooled embeddings carry
  (masked and full views of N training clips; 2-fold cross-validated ridge-classifier
  accuracy, chance 1 / number of classes): what the inter-modal contrast can align when the
  modalities share only a category;
* ``loss_nce_inter`` and ``acc_inter`` of every training iteration (mean of the last 20
  iterations is reported; chance is 1 / batch size).

Each setting is a name and its ``--cfg-options`` for ``configs/demo/stage1.py`` (parsed and
checked as every tool's ``--cfg-options``: list values such as ``[1,2]`` stay whole)::

    python tools/contrast_diagnostics.py --data-kind category --iters 100 \\
        --setting base --setting tau0.5 model.inter_loss.temperature=0.5

prints one line per setting and writes ``WORK_DIR/<setting>.json``. ``--supervised`` instead
trains the same encoders on the labels (:func:`supervised_bound`): how fast they can come to
represent the classes at all. Training is the demo's
(MMEngine runner, the clips decoded once, its optimizer and schedule).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

import torch  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

from mavil.apis.cli import StrictDictAction  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def mean_pairwise_cosine(x: torch.Tensor) -> float:
    """Mean cosine similarity over the pairs i != j of the rows of ``x`` [N, D]."""
    z = torch.nn.functional.normalize(x.detach().double(), dim=-1)
    sim = z @ z.t()
    n = len(z)
    return float((sim.sum() - sim.diagonal().sum()) / (n * (n - 1)))


def ridge_probe_accuracy(x: torch.Tensor, labels: torch.Tensor, ridge: float = 10.0) -> float:
    """Category information in embeddings ``x`` [N, D]: 2-fold cross-validated accuracy of a
    ridge-regression classifier (one-hot targets) on the batch-standardised features."""
    from mavil.models.losses.contrastive import standardize
    z = standardize(x.detach().double())
    z = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1)
    y = torch.nn.functional.one_hot(labels.long()).double()
    half = len(z) // 2
    correct = 0
    for fit, test in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
        a, b = z[fit], y[fit]
        w = torch.linalg.solve(a.t() @ a + ridge * torch.eye(a.shape[1], dtype=a.dtype),
                               a.t() @ b)
        correct += int(((z[test] @ w).argmax(1) == labels[test]).sum())
    return correct / len(z)


def _grad_norm(loss: torch.Tensor, params: list) -> float:
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads if g is not None)))


class ContrastProbeHook(Hook):
    """Measures the embedding spread and the gradient norms on a fixed batch (without
    touching the training's random state) and keeps the per-iteration contrast logs."""
    priority = 'LOWEST'

    def __init__(self, batch: dict, every: int, label_batch: Optional[dict] = None) -> None:
        self.batch, self.every, self.label_batch = batch, every, label_batch
        self.records, self.iters = [], []

    def _probe(self, runner) -> None:
        from mavil.demo.stages import unwrap
        model = unwrap(runner.model)
        with torch.random.fork_rng():
            torch.manual_seed(1234)  # the same masks at every probe
            data = model.data_preprocessor(self.batch, True)
            inputs = data['inputs']
            masks = model.sample_masks(inputs['audio'].shape[0], inputs['audio'].device)
            views = model.encode(inputs, masks)
            rec = model.reconstruction_losses(inputs, views, masks)
            rec_loss = sum(rec.values())
            record = dict(iter=runner.iter)
            emb = views.embeddings
            record['cos_audio_masked'] = mean_pairwise_cosine(emb['audio'])
            record['cos_video_masked'] = mean_pairwise_cosine(emb['video'])
            if getattr(model.inter_loss, 'batch_standardize', False):  # what Eq. 2 compares
                from mavil.models.losses.contrastive import standardize
                record['cos_audio_std'] = mean_pairwise_cosine(standardize(emb['audio']))
                record['cos_video_std'] = mean_pairwise_cosine(standardize(emb['video']))
            full = model.extract_feat(inputs)
            record['cos_audio_full'] = mean_pairwise_cosine(full['audio'])
            record['cos_video_full'] = mean_pairwise_cosine(full['video'])
            params = {m: [p for p in enc.parameters() if p.requires_grad]
                      for m, enc in model.encoders.items()}
            for m, ps in params.items():
                record[f'grad_rec_{m}'] = _grad_norm(rec_loss, ps)
            if model.inter_loss is not None:
                inter = model.contrastive_losses(emb)['loss_nce_inter']
                record['loss_nce_inter_probe'] = float(inter.detach())
                for m, ps in params.items():
                    record[f'grad_inter_{m}'] = _grad_norm(inter, ps)
            model.zero_grad(set_to_none=True)
            if self.label_batch is not None:
                record.update(self._category_probe(model))
        self.records.append(record)

    @torch.no_grad()
    def _category_probe(self, model) -> dict:
        """Ridge-probe category accuracy of the pooled embeddings (masked views with fixed
        masks, and full views) of ``label_batch``; chance is 1 / number of classes."""
        data = model.data_preprocessor(self.label_batch, False)
        inputs = data['inputs']
        labels = self.label_batch['labels']
        out = {m: [] for m in ('audio_masked', 'video_masked', 'audio_full', 'video_full')}
        n = inputs['audio'].shape[0]
        for start in range(0, n, 64):
            part = {m: v[start:start + 64] for m, v in inputs.items()}
            masks = model.sample_masks(part['audio'].shape[0], part['audio'].device)
            emb = model.encode(part, masks).embeddings
            full = model.extract_feat(part)
            for m in ('audio', 'video'):
                out[f'{m}_masked'].append(emb[m])
                out[f'{m}_full'].append(full[m])
        return {f'cat_{k}': ridge_probe_accuracy(torch.cat(v), labels) for k, v in out.items()}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter % self.every == 0:
            self._probe(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        outputs = outputs or {}
        self.iters.append({k: float(v) for k, v in outputs.items()
                           if k in ('loss_nce_inter', 'acc_inter', 'loss_rec_audio',
                                    'loss_rec_video')})

    def after_train(self, runner) -> None:
        self._probe(runner)


def prepared_cache(kind: str, data_root: str, work_dir: str,
                   num_clips: Optional[int] = None) -> str:
    """The demo's clip cache of ``kind`` (built once in ``work_dir/cache_<kind>``, as the demo
    builds its own); generates the clips first unless ``data_root`` holds them."""
    from mavil.demo.generator import data_config, ensure_dataset
    from mavil.demo.run import DemoSettings
    from mavil.demo.stages import ensure_cache, load_stage_config

    data_cfg = data_config(kind, **({} if num_clips is None else dict(num_clips=num_clips)))
    ensure_dataset(data_root, data_cfg, progress=False)
    settings = DemoSettings(data_root=data_root, data_kind=kind, progress=False)
    cfg = load_stage_config(settings.stage1_config, settings, 0, osp.join(work_dir, 'decode'),
                            None)
    stamp = json.dumps(dict(data=data_cfg.to_json(), root=osp.abspath(data_root),
                            pipelines=[str(cfg.train_pipeline), str(cfg.test_pipeline)]),
                       sort_keys=True)
    return ensure_cache(cfg, osp.join(work_dir, f'cache_{kind}'), stamp, workers=0,
                        progress=False)


def run_setting(name: str, options: dict, args, cache_dir: str) -> dict:
    from mavil.apis.stages import build_runner
    from mavil.demo.run import DemoSettings
    from mavil.demo.stages import build_dataset, load_stage_config

    settings = DemoSettings(data_root=args.data_root, data_kind=args.data_kind,
                            cache_dir=cache_dir, num_workers=0, cfg_options=options)
    work = osp.join(args.work_dir, f'{args.data_kind}_s{args.seed}_{name}')
    cfg = load_stage_config(args.config, settings, args.seed, work, args.iters)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10 ** 9)
    cfg.default_hooks.logger.interval = 50
    runner = build_runner(cfg)
    probe_set = build_dataset(cfg.train_dataloader.dataset)  # the training clips, one draw
    items = [probe_set[i] for i in range(args.probe_clips)]
    batch = dict(inputs={m: torch.stack([it['inputs'][m] for it in items])
                         for m in ('audio', 'video')},
                 data_samples=[it['data_samples'] for it in items])
    label_batch = None
    if args.label_clips:
        n = min(args.label_clips, len(probe_set))
        lab = [probe_set[i] for i in range(n)]
        label_batch = dict(inputs={m: torch.stack([it['inputs'][m] for it in lab])
                                   for m in ('audio', 'video')},
                           data_samples=[it['data_samples'] for it in lab],
                           labels=torch.cat([it['data_samples'].labels for it in lab]))
    hook = ContrastProbeHook(batch, args.every, label_batch)
    runner.register_hook(hook)
    start = time.time()
    runner.train()
    tail = hook.iters[-20:]
    summary = {k: sum(it[k] for it in tail) / len(tail) for k in tail[0]} if tail else {}
    result = dict(setting=name, options=options, seed=args.seed, kind=args.data_kind,
                  iters=args.iters, batch_size=cfg.train_dataloader.batch_size,
                  seconds=time.time() - start, last20=summary, probes=hook.records,
                  per_iter=hook.iters)
    with open(osp.join(args.work_dir, f'{args.data_kind}_s{args.seed}_{name}.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


def supervised_bound(options: dict, args, cache_dir: str) -> dict:
    """What the demo's encoders can learn of the labels in ``args.iters`` iterations: the
    stage's encoders, masked views, mean pooling, batch, AdamW settings and schedule shape
    (linear warm-up over 10 %, cosine to 1e-5), trained on the labels through a linear
    classifier per modality (cross-entropy), without reconstruction or contrast. Returns the
    training-batch accuracy per modality, every iteration."""
    import math
    from mavil.apis.stages import build_runner
    from mavil.demo.run import DemoSettings
    from mavil.demo.stages import load_stage_config

    settings = DemoSettings(data_root=args.data_root, data_kind=args.data_kind,
                            cache_dir=cache_dir, num_workers=0, cfg_options=options)
    work = osp.join(args.work_dir, f'{args.data_kind}_s{args.seed}_supervised')
    cfg = load_stage_config(args.config, settings, args.seed, work, args.iters)
    runner = build_runner(cfg)
    runner._init_model_weights()  # the stage's initialisation (train() would do it)
    model = runner.model
    heads = torch.nn.ModuleDict({m: torch.nn.LazyLinear(args.num_classes)
                                 for m in model.encoders})
    params = [p for enc in model.encoders.values() for p in enc.parameters()]
    opt_cfg = cfg.optim_wrapper.optimizer
    warmup, lr = max(1, args.iters // 10), opt_cfg.lr
    batches = iter(runner.train_dataloader)
    acc = {m: [] for m in heads}
    for i in range(args.iters):
        data = model.data_preprocessor(next(batches), True)
        labels = torch.cat([s.labels for s in data['data_samples']])
        masks = model.sample_masks(len(labels), labels.device)
        emb = model.encode(data['inputs'], masks).embeddings
        logits = {m: head(emb[m]) for m, head in heads.items()}
        if i == 0:  # the heads' shapes are known now
            opt = torch.optim.AdamW(params + list(heads.parameters()), lr=lr,
                                    betas=opt_cfg.betas, weight_decay=opt_cfg.weight_decay)
        scale = (0.01 + 0.99 * i / warmup if i < warmup else
                 1e-5 / lr + (1 - 1e-5 / lr) * 0.5 * (1 + math.cos(
                     math.pi * (i - warmup) / max(1, args.iters - warmup))))
        for group in opt.param_groups:
            group['lr'] = lr * scale
        loss = sum(torch.nn.functional.cross_entropy(x, labels) for x in logits.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        for m, x in logits.items():
            acc[m].append(float((x.argmax(1) == labels).float().mean()))
    result = dict(setting='supervised', options=options, seed=args.seed, kind=args.data_kind,
                  iters=args.iters, accuracy=acc)
    with open(osp.join(args.work_dir, f'{args.data_kind}_s{args.seed}_supervised.json'),
              'w') as f:
        json.dump(result, f, indent=1)
    return result


def format_line(r: dict) -> str:
    p0, p1 = r['probes'][0], r['probes'][-1]
    last = r['last20']
    g = (lambda p, k: p.get(k, float('nan')))
    return (f"{r['kind']:8s} s{r['seed']} {r['setting']:18s} B={r['batch_size']:3d} "
            f"acc_inter {last.get('acc_inter', float('nan')):.3f} (chance "
            f"{1 / r['batch_size']:.3f}) nce {last.get('loss_nce_inter', float('nan')):.3f} | "
            f"cos a/v masked {g(p0, 'cos_audio_masked'):.3f}/{g(p0, 'cos_video_masked'):.3f}"
            f" -> {g(p1, 'cos_audio_masked'):.3f}/{g(p1, 'cos_video_masked'):.3f} | "
            f"|g_inter|/|g_rec| a {g(p0, 'grad_inter_audio') / g(p0, 'grad_rec_audio'):.3f} "
            f"v {g(p0, 'grad_inter_video') / g(p0, 'grad_rec_video'):.3f} -> "
            f"a {g(p1, 'grad_inter_audio') / g(p1, 'grad_rec_audio'):.3f} "
            f"v {g(p1, 'grad_inter_video') / g(p1, 'grad_rec_video'):.3f} | "
            f"{r['seconds']:.0f} s")


class SettingAction(StrictDictAction):
    """``--setting NAME [KEY=VALUE ...]``: appends ``(NAME, options)``, the options parsed as
    every tool's ``--cfg-options`` (:class:`~mavil.apis.cli.StrictDictAction`)."""

    def __call__(self, parser, namespace, values, option_string=None):
        name, items = values[0], values[1:]
        settings = list(getattr(namespace, self.dest, None) or [])
        if '=' in name or '/' in name or name in {n for n, _ in settings}:
            parser.error(f'{option_string} {name!r}: expected a new setting name (part of a '
                         'file name: no "/" or "="), then its KEY=VALUE overrides (e.g. '
                         '--setting tau0.5 model.inter_loss.temperature=0.5)')
        options = argparse.Namespace()
        super().__call__(parser, options, items, option_string)
        setattr(namespace, self.dest, settings + [(name, getattr(options, self.dest))])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data-kind', default='melody', choices=('melody', 'category'))
    p.add_argument('--data-root', default=None)
    p.add_argument('--num-clips', type=int, default=None,
                   help="clips of the generated data (default: the demo's)")
    p.add_argument('--config', default=osp.join(REPO, 'configs/demo/stage1.py'))
    p.add_argument('--work-dir', default='work_dirs/contrast_diagnostics')
    p.add_argument('--iters', type=int, default=100)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--every', type=int, default=25, help='probe every N iterations')
    p.add_argument('--probe-clips', type=int, default=64)
    p.add_argument('--label-clips', type=int, default=0,
                   help='also probe the category information of the embeddings on N clips')
    p.add_argument('--supervised', action='store_true',
                   help='instead: train the encoders on the labels (supervised_bound); prints '
                   'the training-batch accuracy per 20 iterations')
    p.add_argument('--num-classes', type=int, default=8, help='with --supervised')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--setting', nargs='+', action=SettingAction, default=[],
                   metavar=('NAME', 'KEY=VALUE'),
                   help='a run: its name, then its config overrides (none: the config as it '
                   'is); with --supervised, the first setting\'s overrides apply')
    args = p.parse_args(argv)
    if not args.supervised and not args.setting:
        p.error('give at least one --setting')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    args.data_root = args.data_root or ('data/demo' if args.data_kind == 'melody'
                                        else f'data/demo_{args.data_kind}')
    os.makedirs(args.work_dir, exist_ok=True)
    cache_dir = prepared_cache(args.data_kind, args.data_root, args.work_dir, args.num_clips)
    if args.supervised:
        options = args.setting[0][1] if args.setting else {}
        acc = supervised_bound(options, args, cache_dir)['accuracy']
        for m, values in acc.items():
            print(f'{args.data_kind} s{args.seed} supervised {m} accuracy per 20 iterations: '
                  + ' '.join(f'{sum(values[i:i + 20]) / len(values[i:i + 20]):.3f}'
                             for i in range(0, len(values), 20)), flush=True)
        return
    for name, options in args.setting:
        print(format_line(run_setting(name, options, args, cache_dir)), flush=True)


if __name__ == '__main__':
    main()
