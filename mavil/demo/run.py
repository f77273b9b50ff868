"""``make demo``: built-in data -> tiny MAViL stage 1 -> one stage-2 iteration -> report.

Phases (each timed; the times are printed and saved to ``WORK_DIR/timings.json``):

1. ``data``: generate the demo clips unless ``data_root`` already holds them
   (:mod:`mavil.demo.generator`).
2. ``decode_eval``: decode every clip once with the TEST pipeline (center crop, no
   augmentation) into memory; all models are evaluated on these same tensors.
3. ``eval_random_init``: the stage-1 model as initialised (fixed seed), untrained.
4. ``train_stage1``: MMEngine training from ``configs/demo/stage1.py`` (real file reading and
   augmentation in data-loader workers), checkpoint in ``WORK_DIR/stage1``.
5. ``train_stage2_iter1``: a re-initialised student predicting the frozen stage-1 teacher's
   fused tokens (``configs/demo/stage2_iter1.py``), checkpoint in ``WORK_DIR/stage2_iter1``.
6. ``eval_*``: audio->video retrieval on the held-out split and linear probes (trained on the
   training split's embeddings), per model.

Outputs: ``WORK_DIR/report.json`` (one object per stage: ``a2v_r1``, ``a2v_r5``,
``chance_r1``, ``chance_r5``, ``audio_probe_acc``, ``video_probe_acc``, ``chance_acc``),
``WORK_DIR/loss_curve.png`` and ``WORK_DIR/timings.json``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import torch

from .evaluate import evaluate_model, load_eval_split
from .generator import NUM_CLASSES, DemoDataConfig, ensure_dataset

REPO_ROOT = Path(__file__).resolve().parents[2]
STAGES = ('random_init', 'stage1', 'stage2_iter1')


@dataclass
class DemoSettings:
    """What ``make demo`` runs; the defaults are the embedded demo. Smaller values make the
    smoke test (``tests/demo/test_demo_smoke.py``)."""
    data_root: str = 'data/demo'
    work_dir: str = 'work_dirs/demo'
    stage1_config: str = str(REPO_ROOT / 'configs/demo/stage1.py')
    stage2_config: str = str(REPO_ROOT / 'configs/demo/stage2_iter1.py')
    num_clips: int = DemoDataConfig.num_clips
    data_seed: int = DemoDataConfig.seed
    seed: int = 0
    stage1_iters: Optional[int] = None  # None: the config's max_iters
    stage2_iters: Optional[int] = None
    batch_size: Optional[int] = None  # None: the config's
    num_workers: Optional[int] = None  # None: the config's
    stage2: bool = True
    probe_steps: int = 300
    progress: bool = True
    threads: int = 1  # torch threads of the main process (see run_demo)
    cfg_options: dict = field(default_factory=dict)  # applied to both stage configs


class PhaseTimer:
    """Wall-clock seconds per named phase, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        print(f'\n=== {name} ===', flush=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start
            print(f'=== {name}: {self.seconds[name]:.1f} s ===', flush=True)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


# ---------------------------------------------------------------------------- configs
def load_stage_config(path: str, settings: DemoSettings, work_dir: str, iters: Optional[int],
                      extra: Optional[dict] = None):
    """The stage's Config with the demo's data location, sizes and work dir applied."""
    from mmengine.config import Config

    cfg = Config.fromfile(path)
    options = dict(settings.cfg_options)
    options.update(extra or {})
    cfg.merge_from_dict(options)
    root = settings.data_root
    for name in ('train_dataset', 'test_dataset'):
        cfg[name].update(ann_file=osp.join(root, 'annotations.csv'), data_prefix=root)
    cfg.train_dataloader.dataset.update(ann_file=osp.join(root, 'annotations.csv'),
                                        data_prefix=root)
    if settings.batch_size is not None:
        cfg.train_dataloader.batch_size = settings.batch_size
    if settings.num_workers is not None:
        cfg.train_dataloader.num_workers = settings.num_workers
        cfg.train_dataloader.persistent_workers = settings.num_workers > 0
    if iters is not None:
        _set_iters(cfg, iters)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=settings.seed, deterministic=False)
    cfg.experiment_name = f'demo_{osp.basename(work_dir)}_{time.strftime("%Y%m%d_%H%M%S")}'
    return cfg


def _set_iters(cfg, iters: int) -> None:
    """Shorten (or lengthen) the iteration schedule: warm-up is 10 %, cosine decay the rest."""
    warmup = max(1, iters // 10)
    cfg.max_iters = iters
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup, end=iters,
             T_max=max(1, iters - warmup), eta_min=1e-5),
    ]
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = min(cfg.default_hooks.logger.interval, max(1, iters))


def build_dataset(cfg_dataset: dict):
    import mavil.datasets  # noqa: F401  (registers AVDataset and the transforms)
    from mavil.registry import DATASETS
    return DATASETS.build(copy.deepcopy(cfg_dataset))


def build_runner(cfg):
    import mavil.engine  # noqa: F401  (registers MAViLRunner, hooks, optim wrappers)
    from mavil.registry import RUNNERS
    return RUNNERS.build(cfg)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


def train_stage(runner) -> tuple[torch.nn.Module, str, dict]:
    """Train with the MMEngine runner; returns (model, final checkpoint, per-iter losses)."""
    runner.train()
    max_iters = runner.cfg.train_cfg.max_iters
    ckpt = osp.join(runner.work_dir, f'iter_{max_iters}.pth')
    if not osp.isfile(ckpt):
        raise FileNotFoundError(f'training finished but {ckpt} was not written')
    losses = {}
    for key, buffer in runner.message_hub.log_scalars.items():
        name = key.split('/', 1)[-1]
        if key.startswith('train/') and name.startswith('loss'):
            losses[name] = [float(v) for v in buffer.data[0]]
    return unwrap(runner.model), ckpt, losses


# ---------------------------------------------------------------------------- outputs
def plot_losses(curves: dict[str, dict[str, list[float]]], path: str) -> None:
    """One panel per stage: the total loss and each term, per iteration (log scale)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4), squeeze=False)
    for ax, (stage, losses) in zip(axes[0], curves.items()):
        for name, values in sorted(losses.items(), key=lambda kv: kv[0] != 'loss'):
            ax.plot(range(1, len(values) + 1), values, label=name,
                    linewidth=2 if name == 'loss' else 1)
        ax.set_yscale('log')
        ax.set_xlabel('iteration')
        ax.set_title(f'{stage} training loss')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def format_report(report: dict[str, dict[str, float]], n_test: int, n_train: int) -> str:
    lines = [f'MAViL demo: {n_test} held-out clips ({NUM_CLASSES} classes), probes trained on '
             f'{n_train} clips',
             f'{"stage":<14}{"a2v R@1":>9}{"a2v R@5":>9}{"audio probe":>13}{"video probe":>13}']
    for stage, row in report.items():
        lines.append(f'{stage:<14}{row["a2v_r1"]:>9.3f}{row["a2v_r5"]:>9.3f}'
                     f'{row["audio_probe_acc"]:>13.3f}{row["video_probe_acc"]:>13.3f}')
    row = next(iter(report.values()))
    lines.append(f'{"chance":<14}{row["chance_r1"]:>9.3f}{row["chance_r5"]:>9.3f}'
                 f'{row["chance_acc"]:>13.3f}{row["chance_acc"]:>13.3f}')
    return '\n'.join(lines)


# ------------------------------------------------------------------------------- main
def run_demo(settings: DemoSettings = DemoSettings()) -> dict[str, dict[str, float]]:
    """Run every phase; returns the report (also written to ``work_dir``)."""
    # One compute thread: the data-loader workers decode on the other core. With 2 OpenMP
    # threads next to the workers, threads spin-wait for each other on a busy 2-core machine
    # and an iteration can take 10x longer.
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        return _run_demo(settings)
    finally:
        torch.set_num_threads(threads)


def _run_demo(settings: DemoSettings) -> dict[str, dict[str, float]]:
    timer = PhaseTimer()
    work_dir = osp.abspath(settings.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data_cfg = DemoDataConfig(num_clips=settings.num_clips, seed=settings.data_seed)

    with timer('data'):
        ann_file = ensure_dataset(settings.data_root, data_cfg, progress=settings.progress)
        print(f'demo data: {ann_file}')

    cfg1 = load_stage_config(settings.stage1_config, settings, osp.join(work_dir, 'stage1'),
                             settings.stage1_iters)
    with timer('decode_eval'):
        workers = 2 if (settings.num_workers is None or settings.num_workers > 0) else 0
        train_split = load_eval_split(
            build_dataset(dict(cfg1.test_dataset, split='train')), desc='decode train split',
            progress=settings.progress, num_workers=workers)
        test_split = load_eval_split(build_dataset(cfg1.test_dataset), desc='decode test split',
                                     progress=settings.progress, num_workers=workers)

    def evaluate(model) -> dict[str, float]:
        return evaluate_model(model, train_split, test_split, NUM_CLASSES,
                              probe_steps=settings.probe_steps, progress=settings.progress)

    report: dict[str, dict[str, float]] = {}
    curves: dict[str, dict[str, list[float]]] = {}
    with timer('build_stage1'):
        runner1 = build_runner(cfg1)  # seeds, then builds the model: its initial weights
    with timer('eval_random_init'):
        report['random_init'] = evaluate(unwrap(runner1.model))  # untrained: the baseline
        _print_row('random_init', report['random_init'])

    with timer('train_stage1'):
        model1, ckpt1, curves['stage1'] = train_stage(runner1)
    with timer('eval_stage1'):
        report['stage1'] = evaluate(model1)
        _print_row('stage1', report['stage1'])
    _write_outputs(work_dir, report, curves, timer)

    if settings.stage2:
        # The teacher is rebuilt from the exact config stage 1 ran with (options included).
        teacher_cfg = osp.join(cfg1.work_dir, 'teacher_config.py')
        cfg1.dump(teacher_cfg)
        cfg2 = load_stage_config(
            settings.stage2_config, settings, osp.join(work_dir, 'stage2_iter1'),
            settings.stage2_iters,
            extra={'model.target.teacher_config': teacher_cfg,
                   'model.target.teacher_ckpt': ckpt1})
        with timer('train_stage2_iter1'):
            model2, _, curves['stage2_iter1'] = train_stage(build_runner(cfg2))
        with timer('eval_stage2_iter1'):
            report['stage2_iter1'] = evaluate(model2)
            _print_row('stage2_iter1', report['stage2_iter1'])

    _write_outputs(work_dir, report, curves, timer)
    print('\n' + format_report(report, len(test_split), len(train_split)))
    print('\nphase times: ' + ', '.join(f'{k} {v:.1f} s' for k, v in timer.seconds.items())
          + f'; total {timer.total:.1f} s')
    print(f'report: {osp.join(work_dir, "report.json")}, loss curve: '
          f'{osp.join(work_dir, "loss_curve.png")}')
    return report


def _print_row(stage: str, row: dict[str, float]) -> None:
    print(f'{stage}: a2v R@1 {row["a2v_r1"]:.3f} (chance {row["chance_r1"]:.3f}), R@5 '
          f'{row["a2v_r5"]:.3f}, probe audio {row["audio_probe_acc"]:.3f} video '
          f'{row["video_probe_acc"]:.3f} (chance {row["chance_acc"]:.3f})', flush=True)


def _write_outputs(work_dir: str, report: dict, curves: dict, timer: PhaseTimer) -> None:
    with open(osp.join(work_dir, 'report.json'), 'w') as f:
        json.dump(report, f, indent=2)
    with open(osp.join(work_dir, 'timings.json'), 'w') as f:
        json.dump(dict(timer.seconds, total=timer.total), f, indent=2)
    if curves:
        plot_losses(curves, osp.join(work_dir, 'loss_curve.png'))


def parse_args(argv=None) -> DemoSettings:
    from mmengine.config import DictAction

    d = DemoSettings()
    p = argparse.ArgumentParser(description='MAViL demo: built-in data, tiny pre-training on '
                                'CPU (stage 1 + one stage-2 iteration), retrieval/probe report')
    p.add_argument('--data-root', default=d.data_root)
    p.add_argument('--work-dir', default=d.work_dir)
    p.add_argument('--stage1-config', default=d.stage1_config)
    p.add_argument('--stage2-config', default=d.stage2_config)
    p.add_argument('--num-clips', type=int, default=d.num_clips)
    p.add_argument('--seed', type=int, default=d.seed)
    p.add_argument('--stage1-iters', type=int, default=None)
    p.add_argument('--stage2-iters', type=int, default=None)
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--num-workers', type=int, default=None)
    p.add_argument('--no-stage2', action='store_true', help='stop after stage 1')
    p.add_argument('--probe-steps', type=int, default=d.probe_steps)
    p.add_argument('--no-progress', action='store_true')
    p.add_argument('--threads', type=int, default=d.threads, help='torch threads (main process)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='overrides for both stage configs, e.g. model.inter_loss.loss_weight=1')
    a = p.parse_args(argv)
    return DemoSettings(
        data_root=a.data_root, work_dir=a.work_dir, stage1_config=a.stage1_config,
        stage2_config=a.stage2_config, num_clips=a.num_clips, seed=a.seed,
        stage1_iters=a.stage1_iters, stage2_iters=a.stage2_iters, batch_size=a.batch_size,
        num_workers=a.num_workers, stage2=not a.no_stage2, probe_steps=a.probe_steps,
        progress=not a.no_progress, threads=a.threads, cfg_options=a.cfg_options)


def main(argv=None) -> dict:
    return run_demo(parse_args(argv))


if __name__ == '__main__':
    main()
