#!/usr/bin/env python
"""A small model's whole training step on one CPU thread, plain layers + per-tensor groups vs the
repository's layers + merged groups, side by side.

    python benchmarks/small_step.py [--config configs/demo/stage1.py] [--batch-size 32]
        [--steps 6] [--warmup 2] [--tuned-options model.audio_encoder.attn_backend=math ...]
        [--compile] [--dry-run]

One step is the demo's training iteration from the loaded clip on: the random steps of the
config's training pipeline per sample (crop, flip, pack), ``pseudo_collate``, then
``model.train_step`` (data preprocessor, forward, backward, the config's optimizer wrapper).
The loading steps (the clip cache read, the fbank: :data:`LOADING_STEPS`; ~1.9 ms of CPU per
demo sample, docs/performance.md "Clip cache") are left out: random clips of their output
shapes (audio ``[1, T, F]`` float, video ``[3, T, H, W]`` uint8) stand in for them.

  plain: the config with MMEngine's per-tensor param groups and plain layers: the patch
         embedding as a strided conv, the masked MSE as (pred - target).pow(2), the decoders'
         norm and head on [CLS] too (:func:`use_plain_layers`; same values within float
         rounding, tests/models).
  tuned: the repository's layers (linear patch embedding), the config with
         ``--tuned-options`` (cfg overrides), param groups
         with equal settings merged (``--merge-groups``, default on: one fused AdamW call per
         setting instead of one per tensor) and, with ``--compile``, ``torch.compile`` on
         ``model.loss`` (its compile time is reported apart; its first steps are warm-up).

Both models start from the same weights; their steps alternate (plain, tuned, tuned, plain, ...)
so that load from other processes hits both alike. Clock: the process's CPU time on one
thread, which does not count time spent descheduled on a shared machine. Work: training FLOPs
of the step (mavil/analysis/throughput.py: 3 x the masked-view forward, intra view included)
over the step time, as a share of the 1-thread fp32 matmul peak measured in the same run
(before and after the timed steps; the best of both).
"""
import argparse
import copy
import logging
import os
import os.path as osp
import statistics
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLAIN = 'conv patch embed, per-tensor groups'  # the reference row
sys.path.insert(0, ROOT)

DRY_RUN_BATCH = 4
# deterministic loading steps of the demo's training pipeline (their output is the input here)
LOADING_STEPS = ('LoadAudioVideo', 'LoadCachedClip', 'AudioResample', 'KaldiFbank',
                 'AudioPadCrop', 'AudioNormalize')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=osp.join(ROOT, 'configs/demo/stage1.py'))
    p.add_argument('--batch-size', type=int, default=None, help='default: the config\'s')
    p.add_argument('--steps', type=int, default=6, help='timed steps per case')
    p.add_argument('--warmup', type=int, default=2, help='untimed steps per case')
    p.add_argument('--tuned-options', nargs='*', default=[], metavar='KEY=VALUE',
                   help='config overrides of the tuned step')
    p.add_argument('--merge-groups', type=int, default=1, choices=[0, 1],
                   help='tuned step: merge param groups with equal settings')
    p.add_argument('--compile', action='store_true', help='tuned step: torch.compile(model.loss)')
    p.add_argument('--dry-run', action='store_true', help=f'batch {DRY_RUN_BATCH}, seconds')
    return p.parse_args(argv)


def load_cfg(path: str, options: list[str]):
    from mmengine.config import Config

    from mavil.apis.stages import parse_cfg_options
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(parse_cfg_options(options))
    return cfg


def clip_shapes(cfg) -> dict:
    """Decoded sample shapes from the model config: audio [1, T, F], video [3, T, H, W]."""
    return {'audio': (1, *cfg.model.audio_encoder.input_size),
            'video': (3, *cfg.model.video_encoder.input_size)}


def use_plain_layers(model) -> None:
    """Give ``model``'s patch embeddings, masked MSE losses and decoders the plain forward (per
    instance): the strided conv, the elementwise squared error, norm and head on [CLS] too."""
    import types

    import torch

    from mavil.models.heads import MaskedDecoder
    from mavil.models.layers import PatchEmbed, gather_tokens, run_blocks
    from mavil.models.losses import MaskedMSELoss

    def conv_embed(self, x):  # [B, C, *input_size] -> [B, N, D]
        return self.proj(x).flatten(2).transpose(1, 2)

    def elementwise_mse(self, pred, target, mask):  # [B, N, P], [B, N, P], [B, N]
        per_token = (pred.float() - target.float()).pow(2).mean(dim=-1)
        return self.loss_weight * (per_token * mask).sum() / mask.sum().clamp(min=1)

    def decode_all_tokens(self, x, mask):  # norm and head on [CLS] too, then dropped
        x = self.embed(x)
        B, N = mask.ids_restore.shape
        cls, visible = x[:, :1], x[:, 1:]
        fill = self.mask_token.expand(B, N - visible.shape[1], -1)
        tokens = gather_tokens(torch.cat([visible, fill], dim=1), mask.ids_restore)
        x = run_blocks(self.blocks, torch.cat([cls, tokens], dim=1) + self.pos_embed, False)
        return self.head(self.norm(x))[:, 1:]

    for module in model.modules():
        if isinstance(module, MaskedDecoder):
            module.forward = types.MethodType(decode_all_tokens, module)
        elif isinstance(module, PatchEmbed):
            module.forward = types.MethodType(conv_embed, module)
        elif isinstance(module, MaskedMSELoss):
            module.forward = types.MethodType(elementwise_mse, module)


class Case:
    """One training setup: model, optimizer wrapper, per-sample pipeline."""

    def __init__(self, name: str, cfg, state: dict, merge_groups: bool, compile_: bool):
        import torch
        from mmengine.optim import build_optim_wrapper

        from mavil.engine.param_groups import merge_param_groups
        from mavil.registry import MODELS, TRANSFORMS
        self.name = name
        self.model = MODELS.build(copy.deepcopy(cfg.model)).train()
        self.model.load_state_dict(state)
        if name == PLAIN:
            use_plain_layers(self.model)
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if name == PLAIN:  # MMEngine's constructor: one group per tensor
            optim_cfg.pop('constructor', None)
        self.wrapper = build_optim_wrapper(self.model, optim_cfg)
        if merge_groups:
            merge_param_groups(self.wrapper.optimizer)
        self.pipeline = [TRANSFORMS.build(t) for t in cfg.train_pipeline
                         if t['type'] not in LOADING_STEPS]
        self.compile_s = None
        if compile_:
            self.model.loss = torch.compile(self.model.loss)
        self.times: list[float] = []
        self.data_times: list[float] = []

    def step(self, clips: list[dict], record: bool) -> float:
        from mmengine.dataset import pseudo_collate
        start = time.process_time()
        samples = []
        for clip in clips:
            results = {k: v.clone() if hasattr(v, 'clone') else v for k, v in clip.items()}
            for transform in self.pipeline:
                results = transform(results)
            samples.append(results)
        batch = pseudo_collate(samples)
        data_s = time.process_time() - start
        self.model.train_step(batch, self.wrapper)
        seconds = time.process_time() - start
        if record:
            self.times.append(seconds)
            self.data_times.append(data_s)
        return seconds


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch
    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope

    import mavil.datasets  # noqa: F401
    import mavil.engine  # noqa: F401
    import mavil.models  # noqa: F401
    from mavil.analysis.throughput import matmul_flops_per_s, training_flops_per_sample
    from mavil.registry import MODELS

    torch.set_num_threads(1)
    DefaultScope.get_instance('small_step', scope_name='mavil')  # as the runner does
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # paramwise listing
    base: list[str] = []
    cfg_plain = load_cfg(args.config, base)
    cfg_tuned = load_cfg(args.config, base + args.tuned_options)
    batch = args.batch_size or (DRY_RUN_BATCH if args.dry_run else
                                cfg_plain.train_dataloader.batch_size)
    torch.manual_seed(0)
    state = MODELS.build(copy.deepcopy(cfg_plain.model)).state_dict()
    flops = training_flops_per_sample(MODELS.build(copy.deepcopy(cfg_plain.model))) * batch
    shapes = clip_shapes(cfg_plain)
    gen = torch.Generator().manual_seed(0)
    clips = [dict(audio=torch.randn(shapes['audio'], generator=gen),
                  video=torch.randint(0, 256, shapes['video'], generator=gen,
                                      dtype=torch.uint8),
                  labels=torch.tensor([i % 4]), filename=f'clip_{i}.mp4')
             for i in range(batch)]
    load_before = os.getloadavg()[0]
    size = 256 if args.dry_run else 1024
    peaks = [matmul_flops_per_s(torch.float32, size=size, clock=time.process_time)]
    plain = Case(PLAIN, cfg_plain, state, False, False)
    tuned = Case(f'linear patch embed, {"merged" if args.merge_groups else "per-tensor"} groups',
                 cfg_tuned, state, bool(args.merge_groups), args.compile)
    if args.compile:  # the first call compiles: its time is the compile cost
        wall = time.perf_counter()
        tuned.compile_s = (tuned.step(clips, False), time.perf_counter() - wall)
    for r in range(args.warmup + args.steps):
        for case in ((plain, tuned) if r % 2 == 0 else (tuned, plain)):
            case.step(clips, record=r >= args.warmup)
    peaks.append(matmul_flops_per_s(torch.float32, size=size, clock=time.process_time))
    peak = max(peaks)
    rows = {}
    for case in (plain, tuned):
        best, median = min(case.times), statistics.median(case.times)
        rows[case.name] = dict(best_s=best, median_s=median, gflops=flops / median / 1e9,
                               peak_share=flops / median / peak,
                               data_s=statistics.median(case.data_times))
    print(f'config {osp.relpath(args.config, ROOT)} {" ".join(base)}; batch {batch}; 1 thread '
          f'(CPU seconds of this process); torch {torch.__version__}; load average before '
          f'{load_before:.1f}, after {os.getloadavg()[0]:.1f}')
    print(f'work {flops / 1e9:.1f} GFLOP per step; 1-thread fp32 matmul peak '
          f'{peak / 1e9:.0f} GFLOP/s ({size}^2, best of before/after: '
          f'{", ".join(f"{p / 1e9:.0f}" for p in peaks)}); {args.steps} timed steps per case '
          f'after {args.warmup} warm-up, alternating')
    print(f'tuned: {" ".join(args.tuned_options) or "no config change"}; param groups '
          f'{len(plain.wrapper.optimizer.param_groups)} (plain) -> '
          f'{len(tuned.wrapper.optimizer.param_groups)}'
          f'{"; torch.compile(model.loss)" if args.compile else ""}')
    if tuned.compile_s:
        print(f'compile (first tuned step): {tuned.compile_s[0]:.1f} CPU s, '
              f'{tuned.compile_s[1]:.1f} s wall')
    print('| step | best s | median s | of which data s | GFLOP/s (median) | share of fp32 peak |')
    print('| --- | ---: | ---: | ---: | ---: | ---: |')
    for name, r in rows.items():
        print(f'| {name} | {r["best_s"]:.3f} | {r["median_s"]:.3f} | {r["data_s"]:.3f} | '
              f'{r["gflops"]:.0f} | {100 * r["peak_share"]:.0f} % |')
    ratio = rows[plain.name]['median_s'] / rows[tuned.name]['median_s']
    print(f'tuned / plain, training work per CPU-second: {ratio:.2f}x (medians; best: '
          f'{rows[plain.name]["best_s"] / rows[tuned.name]["best_s"]:.2f}x)')
    return dict(rows=rows, ratio=ratio, peak=peak, flops=flops, compile_s=tuned.compile_s)


if __name__ == '__main__':
    main()
