#!/usr/bin/env python
"""The paper's ablation tables in miniature (``make reproduce``): Table 1 (fusion none /
vanilla / MBT), Table 3 (contrast none / inter / intra / both) and Table 4a (stage-2 targets
raw / M-Uni / M-Fusion), pre-trained at demo size on the demo's clips for several seeds and
evaluated on its held-out split; writes ``WORK_DIR/tables.md`` (ours with spread, the
paper's numbers beside them, whether the order agrees) and ``WORK_DIR/results.json``.

The runs and columns are in :mod:`mavil.demo.ablations`. Each seed runs its pre-trainings in
order (a stage-2 run after its stage-1 teacher) in its own process (all at once by default);
a run whose evaluation is already in ``WORK_DIR/seed_N/<run>/eval.json`` with the same
settings is not redone, so an interrupted reproduction continues where it stopped.

    python tools/reproduce.py [--seeds 0 1 2] [--iters N] [--tables table1 table3 table4a]
                              [--evaluation finetune|probe] [--finetune-epochs N]
                              [--data-kind melody|category] [--jobs N]
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

import torch  # noqa: E402

from mavil.demo.ablations import (EVALUATORS, TABLES, EvalRequest, format_tables,  # noqa: E402
                                  runs_for)
from mavil.demo.run import DemoSettings  # noqa: E402
from mavil.weights.checkpoint_io import atomic_write_text  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Fine-tuning epochs per model and modality (configs/demo/finetune_*.py: 15). CPU seconds
# per step (batch 32, 1 thread, measured): pre-training 0.48, fine-tuning 0.15-0.18. 24
# pre-trainings x 200 steps are ~2500 CPU-s; 48 fine-tunings (8 models x 3 seeds x audio,
# video) x 30 steps an epoch are ~3500 CPU-s at 15 epochs (54 min on 2 cores in all, before
# any overhead, over the 60 minutes `make reproduce` may take), ~1200 at 5.
FINETUNE_EPOCHS = 5


@dataclass
class ReproduceSettings:
    demo: DemoSettings = field(default_factory=lambda: DemoSettings(
        work_dir='work_dirs/reproduce', seeds=(0, 1, 2), reconstruction=False))
    tables: tuple = tuple(t.key for t in TABLES)
    evaluation: str = 'finetune'
    finetune_epochs: Optional[int] = FINETUNE_EPOCHS
    # seed processes at a time (0: all seeds in this process; None: one per seed: 3 single-
    # threaded processes on 2 cores finish sooner than 2 then 1)
    jobs: Optional[int] = None


# --------------------------------------------------------------------------------- data
def prepare_data(demo: DemoSettings) -> tuple[DemoSettings, str]:
    """The demo's data phases (clips, clip cache, splits read once; each reused while the
    data and pipelines stay the same): the settings pointing at the cache, the splits file."""
    from mavil.demo.report import PhaseTimer
    from mavil.demo.run import prepare_data as prepare_demo_data

    demo, splits_file, _, _ = prepare_demo_data(demo, PhaseTimer())
    return demo, splits_file


def _read(path: str) -> Optional[str]:
    return open(path).read() if osp.isfile(path) else None


# ----------------------------------------------------------------------------- one seed
def run_seed(settings: ReproduceSettings, seed: int, splits_file: str) -> dict:
    """Every run the tables need for one model seed; returns ``{run: metrics}`` and the
    seconds each run's training and evaluation took."""
    from mavil.apis.stages import build_runner, teacher_options
    from mavil.demo.generator import data_config
    from mavil.demo.evaluate import load_splits
    from mavil.demo.stages import load_stage_config, train_stage

    demo = settings.demo  # its cache_dir: the clip cache every pre-training reads
    train_split, test_split = load_splits(splits_file)
    num_classes = data_config(demo.data_kind).num_classes
    seed_dir = osp.join(osp.abspath(demo.work_dir), f'seed_{seed}')
    evaluate = EVALUATORS[settings.evaluation]
    results, seconds, ckpts = {}, {}, {}
    for run in runs_for(settings.tables):
        work = osp.join(seed_dir, run.name)
        extra = {}
        if run.teacher:
            teacher_cfg = osp.join(seed_dir, run.teacher, 'teacher_config.py')
            extra = teacher_options(teacher_cfg, ckpts[run.teacher])
        config = osp.join(REPO, run.config)
        cfg = load_stage_config(config, demo, seed, work, demo.stage1_iters, extra)
        stamp = _stamp(settings, seed, cfg)
        eval_file = osp.join(work, 'eval.json')
        saved = json.loads(_read(eval_file) or '{}')
        if saved.get('stamp') == stamp and osp.isfile(saved.get('checkpoint', '')):
            print(f'[seed {seed}] {run.name}: reused {eval_file}', flush=True)
            results[run.name], ckpts[run.name] = saved['metrics'], saved['checkpoint']
            seconds[run.name] = saved['seconds']
            continue
        start = time.time()
        model, ckpts[run.name], _ = train_stage(build_runner(cfg))
        cfg.dump(osp.join(work, 'teacher_config.py'))  # the exact config, for a student
        trained = time.time()
        metrics = evaluate(EvalRequest(model=model, config=cfg, checkpoint=ckpts[run.name],
                                       seed=seed, train=train_split, test=test_split,
                                       num_classes=num_classes,
                                       probe_steps=demo.probe_steps, data_root=demo.data_root,
                                       splits_file=splits_file,
                                       finetune_epochs=settings.finetune_epochs))
        done = time.time()
        seconds[run.name] = dict(train=trained - start, evaluate=done - trained)
        results[run.name] = metrics
        atomic_write_text(eval_file, json.dumps(dict(
            stamp=stamp, checkpoint=ckpts[run.name], metrics=metrics,
            seconds=seconds[run.name]), indent=1))
        print(f'[seed {seed}] {run.name}: ' + ', '.join(f'{k} {v:.3f}' for k, v in
                                                       metrics.items())
              + f' ({seconds[run.name]["train"]:.0f} s train, '
              f'{seconds[run.name]["evaluate"]:.0f} s eval)', flush=True)
        del model
    return dict(results=results, seconds=seconds)


def _stamp(settings: ReproduceSettings, seed: int, cfg) -> str:
    """What decides a run's result: the settings, the seed and the full config (but its
    time-stamped experiment name)."""
    text = json.dumps(dict(settings=asdict(settings), seed=seed), sort_keys=True, default=str)
    config = [line for line in cfg.pretty_text.splitlines()
              if not line.startswith('experiment_name')]
    return hashlib.sha256('\n'.join([text, *config]).encode()).hexdigest()


def _seed_process(settings: ReproduceSettings, seed: int, splits_file: str) -> dict:
    log_file = osp.join(osp.abspath(settings.demo.work_dir), f'seed_{seed}.log')
    with open(log_file, 'w', buffering=1) as log:
        sys.stdout = sys.stderr = log
        torch.set_num_threads(settings.demo.threads)
        return run_seed(settings, seed, splits_file)


def run_seeds(settings: ReproduceSettings, splits_file: str) -> dict:
    seeds = settings.demo.seeds
    jobs = len(seeds) if settings.jobs is None else settings.jobs
    if jobs <= 0:
        return {s: run_seed(settings, s, splits_file) for s in seeds}
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(jobs, len(seeds)),
                             mp_context=mp.get_context('spawn')) as pool:
        futures = {s: pool.submit(_seed_process, replace(
            settings, demo=replace(settings.demo, progress=False)), s, splits_file)
            for s in seeds}
        for s in seeds:
            print(f'seed {s}: log {settings.demo.work_dir}/seed_{s}.log', flush=True)
        return {s: f.result() for s, f in futures.items()}


# ---------------------------------------------------------------------------------- main
def reproduce(settings: ReproduceSettings) -> str:
    """Run everything; returns the tables' markdown (also written to ``tables.md``)."""
    if settings.evaluation not in EVALUATORS:
        raise ValueError(f'unknown evaluation {settings.evaluation!r}; choose from '
                         f'{list(EVALUATORS)}')
    runs_for(settings.tables)  # unknown table names fail before any work
    demo = settings.demo
    if not demo.seeds:
        raise ValueError('give at least one seed')
    work = osp.abspath(demo.work_dir)
    os.makedirs(work, exist_ok=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(demo.threads)
    start = time.time()
    try:
        demo, splits_file = prepare_data(demo)
        settings = replace(settings, demo=demo)
        data_seconds = time.time() - start
        per_seed = run_seeds(settings, splits_file)
    finally:
        torch.set_num_threads(threads)
    total = time.time() - start
    results = {}
    for seed, out in per_seed.items():
        for run, metrics in out['results'].items():
            results.setdefault(run, {})[seed] = metrics
    metric = EVALUATORS[settings.evaluation].description
    iters = demo.stage1_iters or "the configs'"
    batch = demo.batch_size or "as in the configs"
    header = (f'Demo data kind `{demo.data_kind}` ({demo.num_clips} clips, data seed '
              f'{demo.data_seed}), {iters} iterations per pre-training, batch {batch}; '
              f'{total / 60:.1f} min wall ({data_seconds:.0f} s data), '
              f'`tools/reproduce.py` with evaluation `{settings.evaluation}`.')
    text = format_tables(results, demo.seeds, settings.tables, metric=metric, header=header)
    with open(osp.join(work, 'tables.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(work, 'results.json'), 'w') as f:
        json.dump(dict(results=results, seconds={s: o['seconds'] for s, o in per_seed.items()},
                       total_seconds=total, settings=asdict(settings)), f, indent=1,
                  default=str)
    print(text)
    print(f'\n{total:.0f} s wall; written {work}/tables.md and results.json')
    return text


def parse_args(argv=None) -> ReproduceSettings:
    from mavil.demo.generator import DATA_KINDS

    d = ReproduceSettings()
    p = argparse.ArgumentParser(description='MAViL ablation tables 1, 3 and 4a at demo size')
    p.add_argument('--data-kind', choices=DATA_KINDS, default='melody')
    p.add_argument('--data-root', default=None, help='default data/demo[_<kind>]')
    p.add_argument('--work-dir', default=None, help='default work_dirs/reproduce[_<kind>]')
    p.add_argument('--num-clips', type=int, default=d.demo.num_clips)
    p.add_argument('--data-seed', type=int, default=d.demo.data_seed)
    p.add_argument('--seeds', type=int, nargs='+', default=list(d.demo.seeds))
    p.add_argument('--iters', type=int, default=None,
                   help='iterations per pre-training (default: the configs\', 200)')
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--tables', nargs='+', default=list(d.tables),
                   choices=[t.key for t in TABLES])
    p.add_argument('--evaluation', default=d.evaluation, choices=sorted(EVALUATORS))
    p.add_argument('--finetune-epochs', type=int, default=d.finetune_epochs,
                   help='fine-tuning epochs per model and modality (evaluation finetune)')
    p.add_argument('--probe-steps', type=int, default=d.demo.probe_steps,
                   help='L-BFGS iterations per linear probe (evaluation probe)')
    p.add_argument('--jobs', type=int, default=d.jobs,
                   help='seed processes at a time (default: one per seed; 0: one after '
                   'another in this process)')
    p.add_argument('--threads', type=int, default=d.demo.threads)
    p.add_argument('--no-progress', action='store_true')
    a = p.parse_args(argv)
    suffix = '' if a.data_kind == 'melody' else f'_{a.data_kind}'
    demo = replace(d.demo, data_kind=a.data_kind, data_root=a.data_root or f'data/demo{suffix}',
                   work_dir=a.work_dir or f'work_dirs/reproduce{suffix}',
                   num_clips=a.num_clips, data_seed=a.data_seed, seeds=tuple(a.seeds),
                   stage1_iters=a.iters, batch_size=a.batch_size, probe_steps=a.probe_steps,
                   threads=a.threads, progress=not a.no_progress)
    return ReproduceSettings(demo=demo, tables=tuple(a.tables), evaluation=a.evaluation,
                             finetune_epochs=a.finetune_epochs, jobs=a.jobs)


def main(argv=None) -> str:
    return reproduce(parse_args(argv))


if __name__ == '__main__':
    main()
