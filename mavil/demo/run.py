"""``make demo``: built-in data -> MAE-only baseline, MAViL stage 1 and one stage-2 iteration,
each trained with several model seeds -> retrieval / linear-probe / fine-tuning report (mean +-
spread, paired differences) + figures.

Phases (each timed; the times are printed and saved to ``WORK_DIR/timings.json``):

1. ``data``: generate the demo clips unless ``data_root`` already holds them
   (:mod:`mavil.demo.generator`).
2. ``cache``: decode every clip once into a clip cache (``WORK_DIR/cache``, built by
   :func:`mavil.datasets.cache.build_cache` as ``tools/data/build_cache.py`` does; reused while
   the data and the pipelines stay the same): every stage trains from it (``LoadCachedClip``
   in the configs' pipelines, the random steps per sample). ``eval_splits``: the TEST
   pipeline (center crop, no augmentation) over the cache into memory
   (``WORK_DIR/eval_splits.pt``); every model is evaluated on these same tensors.
3. ``seeds``: per model seed (by default in parallel processes, two per seed: stage 1 ->
   stage 2, and next to it the MAE-only baseline; logs in ``WORK_DIR/seed_N/*.log``), with
   the stage-1 config's initialisation:

   * ``random_init``: the stage-1 model as initialised, untrained;
   * ``mae_only``: Audio-MAE + Video-MAE (no fusion, no contrast; ``configs/demo/mae_only.py``);
   * ``stage1``: MAViL stage 1 (``configs/demo/stage1.py``);
   * ``stage2_iter1``: a re-initialised student predicting the frozen stage-1 teacher's fused
     tokens (``configs/demo/stage2_iter1.py``).

   Each trained model is MMEngine training from the clip cache, with its checkpoint in
   ``WORK_DIR/seed_N/<stage>``; each row is audio<->video retrieval on the held-out split plus
   linear probes (trained on the training split's embeddings).
4. ``finetune`` (:mod:`mavil.demo.finetune`): every model of every seed fine-tuned on the
   training split's labels per head, tested on the held-out split (docs/demo.md).
5. ``report``: ``report.json`` / ``report.png`` (mean +- spread over seeds, paired
   differences per seed), ``loss_curve.png``, ``reconstruction.png``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Optional

import torch

from mavil.apis.stages import build_runner, teacher_options
from .evaluate import EvalSplit, evaluate_model, load_eval_split, load_splits, save_splits
from .figures import plot_reconstruction, write_outputs
from .finetune import finetune_jobs, run_finetune_jobs
from .generator import DATA_KINDS, DemoDataConfig, data_config, ensure_dataset
from .report import (METRICS, PhaseTimer, aggregate, cpu_seconds, finetune_section,
                     format_full_report, paired_probe_differences)
from .stages import build_dataset, ensure_cache, load_stage_config, train_stage, unwrap

REPO_ROOT = Path(__file__).resolve().parents[2]
STAGES = ('random_init', 'mae_only', 'stage1', 'stage2_iter1')
FULL_SEEDS = (0, 1, 2)  # --full
FULL_MODALITIES = ('audio', 'video', 'av')


@dataclass
class DemoSettings:
    """What ``make demo`` runs; the defaults are the embedded demo. Smaller values make the
    smoke test (``tests/demo/test_demo_smoke.py``)."""
    data_root: str = 'data/demo'
    work_dir: str = 'work_dirs/demo'
    mae_only_config: str = str(REPO_ROOT / 'configs/demo/mae_only.py')
    stage1_config: str = str(REPO_ROOT / 'configs/demo/stage1.py')
    stage2_config: str = str(REPO_ROOT / 'configs/demo/stage2_iter1.py')
    num_clips: int = DemoDataConfig.num_clips
    data_seed: int = DemoDataConfig.seed
    data_kind: str = 'melody'  # or 'category' (mavil/demo/categories.py)
    seeds: tuple = (0, 1)
    parallel: bool = True  # one process per seed
    stage1_iters: Optional[int] = None  # None: the config's max_iters (also for mae_only)
    stage2_iters: Optional[int] = None
    batch_size: Optional[int] = None  # None: the config's
    num_workers: Optional[int] = None  # None: the config's
    mae_only: bool = True
    stage2: bool = True
    probe_steps: int = 200  # L-BFGS iterations per probe fit
    progress: bool = True
    threads: int = 1  # torch threads per training process (see run_demo)
    cfg_options: dict = field(default_factory=dict)  # applied to every stage config
    stage2_options: dict = field(default_factory=dict)  # applied to the stage-2 config only
    reconstruction: bool = True
    cache_dir: Optional[str] = None  # set by run_demo: the clip cache the stages read
    finetune: bool = True  # fine-tune every model on the labels, test it (finetune.py)
    # the quick default (fits `make demo`'s 10 minutes; docs/demo.md): the audio head, 7
    # epochs; --full: every head, the configs' 15 epochs, FULL_SEEDS
    finetune_modalities: tuple = ('audio', )  # of 'audio', 'video', 'av'
    finetune_epochs: Optional[int] = 7  # None: the configs' (configs/demo/finetune_*.py)
    finetune_workers: int = 2  # fine-tuning processes at a time (with ``parallel``)
    finetune_options: dict = field(default_factory=dict)  # overrides for every finetune config


# ------------------------------------------------------------------------- one seed
PARTS = ('mavil', 'mae_only')  # the independent jobs of one seed (parallel processes)


def run_seed(settings: DemoSettings, seed: int, train_split: EvalSplit, test_split: EvalSplit,
             parts: tuple = PARTS) -> dict:
    """The stages of one model seed: ``'mavil'`` = random init, stage 1, stage 2 (in this
    order: stage 2's teacher is stage 1); ``'mae_only'`` = the baseline (independent).

    Returns:
        ``{'rows': {stage: row}, 'curves': {stage: losses}, 'timings': {phase: s},
        'checkpoints': {stage: path}}``.
    """
    timer = PhaseTimer(prefix=f'[seed {seed}] ')
    seed_dir = osp.join(osp.abspath(settings.work_dir), f'seed_{seed}')
    rows, curves, ckpts = {}, {}, {}
    num_classes = data_config(settings.data_kind).num_classes

    def evaluate(stage: str, model) -> None:
        with timer(f'eval_{stage}'):
            rows[stage] = evaluate_model(model, train_split, test_split, num_classes,
                                         probe_steps=settings.probe_steps)
        print(f'[seed {seed}] {stage}: ' + ', '.join(f'{k} {rows[stage][k]:.3f}'
                                                     for k in METRICS), flush=True)

    def build(stage: str, config: str, iters: Optional[int], extra: Optional[dict] = None):
        cfg = load_stage_config(config, settings, seed, osp.join(seed_dir, stage), iters, extra)
        with timer(f'build_{stage}'):
            runner = build_runner(cfg)  # seeds, then builds the model: its initial weights
        return cfg, runner

    def train(stage: str, runner):
        with timer(f'train_{stage}'):
            model, ckpts[stage], curves[stage] = train_stage(runner)
        evaluate(stage, model)
        return model

    if 'mavil' in parts:
        cfg1, runner1 = build('stage1', settings.stage1_config, settings.stage1_iters)
        evaluate('random_init', unwrap(runner1.model))  # untrained: same config and seed
        model1 = train('stage1', runner1)
        if settings.reconstruction and seed == settings.seeds[0]:
            with timer('reconstruction'):
                plot_reconstruction(model1, test_split, osp.join(
                    osp.abspath(settings.work_dir), 'reconstruction.png'))
        del runner1, model1
        if settings.stage2:
            # The teacher is rebuilt from the exact config stage 1 ran with (options included).
            teacher_cfg = osp.join(cfg1.work_dir, 'teacher_config.py')
            cfg1.dump(teacher_cfg)
            extra = {**teacher_options(teacher_cfg, ckpts['stage1']), **settings.stage2_options}
            train('stage2_iter1', build('stage2_iter1', settings.stage2_config,
                                        settings.stage2_iters, extra)[1])
    if 'mae_only' in parts and settings.mae_only:
        train('mae_only', build('mae_only', settings.mae_only_config, settings.stage1_iters)[1])
    return dict(rows=rows, curves=curves, timings=timer.seconds, checkpoints=ckpts)


def merge_results(parts: list[dict]) -> dict:
    """The results of one seed's parts -> one result."""
    merged = dict(rows={}, curves={}, timings={}, checkpoints={})
    for part in parts:
        for key in merged:
            merged[key].update(part[key])
    return merged


def _part_process(settings: DemoSettings, seed: int, part: str, splits_file: str,
                  out_file: str) -> None:
    """Body of one (seed, part) process: output to ``seed_N/<part>.log``, result to JSON."""
    log = open(out_file[:-len('.json')] + '.log', 'w', buffering=1)
    sys.stdout = sys.stderr = log
    torch.set_num_threads(settings.threads)
    train_split, test_split = load_splits(splits_file)
    result = run_seed(settings, seed, train_split, test_split, parts=(part,))
    with open(out_file + '.tmp', 'w') as f:
        json.dump(result, f)
    os.replace(out_file + '.tmp', out_file)


def run_seeds(settings: DemoSettings, splits_file: str, train_split: EvalSplit,
              test_split: EvalSplit) -> dict[int, dict]:
    """Every seed: with ``settings.parallel`` each (seed, part) in its own process (2 seeds ->
    4 processes: the MAE-only baseline runs next to stage 1 -> stage 2), else one after
    another in this process."""
    if not settings.parallel:
        return {s: run_seed(settings, s, train_split, test_split) for s in settings.seeds}
    import multiprocessing as mp
    ctx = mp.get_context('spawn')
    work_dir = osp.abspath(settings.work_dir)
    parts = [p for p in PARTS if p != 'mae_only' or settings.mae_only]
    jobs = {}
    child = replace(settings, progress=False)
    try:
        for seed in settings.seeds:
            for part in parts:
                out = osp.join(work_dir, f'seed_{seed}', f'{part}.json')
                os.makedirs(osp.dirname(out), exist_ok=True)
                if osp.exists(out):
                    os.remove(out)
                proc = ctx.Process(target=_part_process,
                                   args=(child, seed, part, splits_file, out))
                proc.start()
                jobs[seed, part] = proc, out
                print(f'seed {seed} {part}: process {proc.pid}, log {out[:-5]}.log', flush=True)
        for proc, _ in jobs.values():
            proc.join()
    finally:  # interrupted: stop the children too
        for proc, _ in jobs.values():
            if proc.is_alive():
                proc.terminate()
    failed = [f'{out[:-5]}.log' for proc, out in jobs.values()
              if proc.exitcode != 0 or not osp.isfile(out)]
    if failed:
        raise RuntimeError(f'demo process(es) failed; see {", ".join(failed)}')
    results = {}
    for seed in settings.seeds:
        loaded = []
        for part in parts:
            with open(jobs[seed, part][1]) as f:
                loaded.append(json.load(f))
        results[seed] = merge_results(loaded)
        print(f'seed {seed} finished: ' + ', '.join(
            f'{k} {v:.0f} s' for k, v in results[seed]['timings'].items()
            if k.startswith('train')), flush=True)
    return results


# ------------------------------------------------------------------------------- main
def prepare_data(settings: DemoSettings, timer: PhaseTimer
                 ) -> tuple[DemoSettings, str, EvalSplit, EvalSplit]:
    """Phases ``data`` (generate the clips unless present), ``cache`` (the clip cache every
    stage reads, built once) and ``eval_splits`` (both splits read once with the test
    pipeline). Returns the settings pointing at the cache, the splits file and the splits."""
    work_dir = osp.abspath(settings.work_dir)
    data_cfg = data_config(settings.data_kind, num_clips=settings.num_clips,
                           seed=settings.data_seed)
    with timer('data'):
        ann_file = ensure_dataset(settings.data_root, data_cfg, progress=settings.progress)
        print(f'demo data: {ann_file}')
    workers = 2 if (settings.num_workers is None or settings.num_workers > 0) else 0
    with timer('cache'):
        cfg1 = load_stage_config(settings.stage1_config, settings, settings.seeds[0],
                                 osp.join(work_dir, 'decode'), None)
        stamp = json.dumps(dict(data=data_cfg.to_json(), root=osp.abspath(settings.data_root),
                                pipelines=[str(cfg1.train_pipeline), str(cfg1.test_pipeline)]),
                           sort_keys=True)
        cache_dir = ensure_cache(cfg1, osp.join(work_dir, 'cache'), stamp, workers=workers,
                                 progress=settings.progress)
    settings = replace(settings, cache_dir=cache_dir)
    with timer('eval_splits'):
        cfg1 = load_stage_config(settings.stage1_config, settings, settings.seeds[0],
                                 osp.join(work_dir, 'decode'), None)
        splits_file = osp.join(work_dir, 'eval_splits.pt')
        train_split = load_eval_split(build_dataset(dict(cfg1.test_dataset, split='train')),
                                      desc='read train split', progress=settings.progress)
        test_split = load_eval_split(build_dataset(cfg1.test_dataset), desc='read test split',
                                     progress=settings.progress)
        save_splits(splits_file, train_split, test_split)
    return settings, splits_file, train_split, test_split


def run_demo(settings: DemoSettings = DemoSettings()) -> dict:
    """Run every phase; returns the report (also written to ``work_dir``)."""
    # One compute thread per training process: the data-loader workers decode on the other
    # core. With 2 OpenMP threads next to the workers, threads spin-wait for each other on a
    # busy 2-core machine and an iteration can take 10x longer.
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        return _run_demo(settings)
    finally:
        torch.set_num_threads(threads)


def _run_demo(settings: DemoSettings) -> dict:
    if not settings.seeds:
        raise ValueError('DemoSettings.seeds is empty: give at least one model seed')
    timer = PhaseTimer()
    work_dir = osp.abspath(settings.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    settings, splits_file, train_split, test_split = prepare_data(settings, timer)

    with timer('seeds'):
        results = run_seeds(settings, splits_file, train_split, test_split)
    finetuned = None
    if settings.finetune:  # phase `finetune`: mavil/demo/finetune.py, docs/demo.md
        with timer('finetune'):
            finetuned = run_finetune_jobs(
                finetune_jobs({s: r['checkpoints'] for s, r in results.items()},
                              settings.finetune_modalities, STAGES),
                work_dir=work_dir, data_root=settings.data_root, splits_file=splits_file,
                epochs=settings.finetune_epochs, cfg_options=settings.finetune_options,
                workers=settings.finetune_workers if settings.parallel else 0,
                threads=settings.threads)
    with timer('report'):
        report = aggregate({s: r['rows'] for s, r in results.items()}, STAGES,
                           n_train=len(train_split), n_test=len(test_split))
        report['probe_paired'] = paired_probe_differences(report)
        if finetuned is not None:
            report['finetune'] = finetune_section(finetuned, STAGES)
        report['settings'] = {k: v for k, v in asdict(settings).items()
                              if k not in ('progress',)}
        write_outputs(work_dir, report, results)
    cpu = cpu_seconds()
    with open(osp.join(work_dir, 'timings.json'), 'w') as f:
        json.dump(dict(timer.seconds, total=timer.total, cpu_seconds=cpu,
                       per_seed={s: r['timings'] for s, r in results.items()}), f, indent=2)
    print('\n' + format_full_report(report))
    print('\nphase times: ' + ', '.join(f'{k} {v:.1f} s' for k, v in timer.seconds.items())
          + f'; total {timer.total:.1f} s wall, {cpu:.0f} s CPU (all processes)')
    print(f'outputs: {work_dir}/{{report.json,report.png,loss_curve.png,reconstruction.png}}')
    return report


def _kind_path(path: str, kind: str) -> str:
    """The default folder of a data kind: each kind keeps its own data and outputs."""
    return path if kind == 'melody' else f'{path}_{kind}'


def parse_args(argv=None) -> DemoSettings:
    from mmengine.config import DictAction

    d = DemoSettings()
    p = argparse.ArgumentParser(description='MAViL demo: built-in data, MAE-only baseline, '
                                'stage 1 and one stage-2 iteration on CPU for several seeds; '
                                'retrieval / linear-probe report and figures')
    p.add_argument('--data-kind', choices=DATA_KINDS, default=d.data_kind,
                   help="'melody' (the demo's data, every setting was chosen on it) or "
                   "'category' (sound and picture share only a category; nothing was chosen "
                   "on it)")
    p.add_argument('--data-root', default=None,
                   help=f'default {d.data_root} (melody), {d.data_root}_category (category)')
    p.add_argument('--work-dir', default=None,
                   help=f'default {d.work_dir} (melody), {d.work_dir}_category (category)')
    p.add_argument('--mae-only-config', default=d.mae_only_config)
    p.add_argument('--stage1-config', default=d.stage1_config)
    p.add_argument('--stage2-config', default=d.stage2_config)
    p.add_argument('--num-clips', type=int, default=d.num_clips)
    p.add_argument('--data-seed', type=int, default=d.data_seed,
                   help='seed of the generated clips: another seed gives a held-out dataset of '
                   'the same kind (use another --data-root and --work-dir)')
    p.add_argument('--seeds', type=int, nargs='+', default=None,
                   help=f'model seeds (default: {list(d.seeds)}; --full: {list(FULL_SEEDS)})')
    p.add_argument('--sequential', action='store_true', help='seeds one after another')
    p.add_argument('--stage1-iters', type=int, default=None)
    p.add_argument('--stage2-iters', type=int, default=None)
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--num-workers', type=int, default=None)
    p.add_argument('--no-mae-only', action='store_true', help='skip the MAE-only baseline')
    p.add_argument('--no-stage2', action='store_true', help='stop after stage 1')
    p.add_argument('--no-reconstruction', action='store_true')
    p.add_argument('--probe-steps', type=int, default=d.probe_steps)
    p.add_argument('--no-progress', action='store_true')
    p.add_argument('--threads', type=int, default=d.threads, help='torch threads per process')
    p.add_argument('--full', action='store_true',
                   help=f'the full run: seeds {FULL_SEEDS}, fine-tuning of the audio, video '
                   'and audio+video heads (default: the quick run, see docs/demo.md)')
    p.add_argument('--no-finetune', action='store_true', help='skip the fine-tuning phase')
    p.add_argument('--finetune-modalities', nargs='+', choices=('audio', 'video', 'av'),
                   default=None, help="heads to fine-tune (default: audio; --full: all three)")
    p.add_argument('--finetune-epochs', type=int, default=None,
                   help=f'fine-tuning epochs (default: {d.finetune_epochs}; --full: 15)')
    p.add_argument('--finetune-workers', type=int, default=d.finetune_workers,
                   help='fine-tuning processes at a time')
    p.add_argument('--finetune-options', nargs='+', action=DictAction, default={},
                   help='overrides for the fine-tuning configs, e.g. train_cfg.max_epochs=5')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='overrides for every stage config, e.g. model.inter_loss.loss_weight=1')
    p.add_argument('--stage2-options', nargs='+', action=DictAction, default={},
                   help='overrides for the stage-2 config, e.g. model.target.normalize=True')
    a = p.parse_args(argv)
    if a.seeds is None:
        a.seeds = FULL_SEEDS if a.full else d.seeds
    modalities = a.finetune_modalities or (FULL_MODALITIES if a.full else d.finetune_modalities)
    if a.finetune_epochs is None and not a.full:
        a.finetune_epochs = d.finetune_epochs
    return DemoSettings(
        data_root=a.data_root or _kind_path(d.data_root, a.data_kind),
        work_dir=a.work_dir or _kind_path(d.work_dir, a.data_kind),
        data_kind=a.data_kind, mae_only_config=a.mae_only_config,
        stage1_config=a.stage1_config, stage2_config=a.stage2_config, num_clips=a.num_clips,
        data_seed=a.data_seed,
        seeds=tuple(a.seeds), parallel=not a.sequential, stage1_iters=a.stage1_iters,
        stage2_iters=a.stage2_iters, batch_size=a.batch_size, num_workers=a.num_workers,
        mae_only=not a.no_mae_only, stage2=not a.no_stage2,
        reconstruction=not a.no_reconstruction,
        probe_steps=a.probe_steps,
        progress=not a.no_progress, threads=a.threads, cfg_options=a.cfg_options,
        stage2_options=a.stage2_options, finetune=not a.no_finetune,
        finetune_modalities=tuple(modalities), finetune_epochs=a.finetune_epochs,
        finetune_workers=a.finetune_workers, finetune_options=a.finetune_options)


def main(argv=None) -> dict:
    return run_demo(parse_args(argv))


if __name__ == '__main__':
    main()
