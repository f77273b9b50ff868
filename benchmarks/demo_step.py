#!/usr/bin/env python
"""CPU-seconds per demo stage-1 training iteration, data loading included: another checkout's
demo (``--before``, e.g. ``git worktree add /tmp/before87 87ac366``) vs this one, side by side.

    python benchmarks/demo_step.py --before /tmp/before87 --data-root /work/data/demo
        [--iters 25] [--warmup 5] [--repeats 2] [--threads 1] [--batch-size 32] [--json]

Each checkout trains its own ``configs/demo/stage1.py`` (model, pipeline, data loader:
workers, prefetching) with MMEngine's runner for ``warmup + iters`` iterations on the same
clips, in a fresh process whose ``mavil`` is that checkout's. A checkout whose training
pipeline reads a clip cache (``LoadCachedClip``) reads one built here once for the clips of
``--data-root`` (raw frames, as the demo builds it; the build is not timed); one that decodes
the files reads them. Runs alternate (before, this, before, this, ...).

Clock: CPU-seconds of the training process and of its data-loader workers (``/proc``: user +
system time of the live process tree, plus waited-for children), over the timed iterations
(after ``--warmup`` iterations, which include the workers' start and the first prefetches).
The iteration's CPU is split into the step (``model.train_step``: data preprocessor, forward,
backward, optimizer; the main process between the last ``before_train_iter`` and the first
``after_train_iter`` hook) and the rest (data loading in the process or its workers,
collation, hooks). Work: the training FLOPs of a batch (``tools/flops.py``'s count via
``mavil/analysis/throughput.py``: 3 x the masked-view forward, intra view included; the same
architecture in both checkouts), per CPU-second, as a share of the 1-thread fp32 matmul peak
measured in this process before and after the runs (the best of both).
"""
import argparse
import json
import os
import os.path as osp
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/demo/stage1.py'
CLOCK_TICK = os.sysconf('SC_CLK_TCK')


# --- CPU time of a process tree ------------------------------------------------------------
def _children(pid: int) -> list:
    kids = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                kids += [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return kids


def _proc_cpu(pid: int) -> float:
    """User + system seconds of a live process (0 once it is gone)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # utime, stime (fields 14, 15)


def tree_cpu_seconds() -> float:
    """CPU-seconds of this process, its live descendants and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + done.ru_utime + done.ru_stime
    stack = _children(os.getpid())
    while stack:
        pid = stack.pop()
        total += _proc_cpu(pid)
        stack += _children(pid)
    return total


# --- one run, in a checkout's own process ----------------------------------------------------
def set_data(cfg, data_root: str, cache: str) -> bool:
    """Point the config's datasets at ``data_root`` and its ``LoadCachedClip`` steps at
    ``cache``; True when the training pipeline reads a cache."""
    ann = osp.join(data_root, 'annotations.csv')
    datasets = [cfg.get('train_dataset'), cfg.get('test_dataset'),
                cfg.train_dataloader.dataset]
    reads_cache = False
    for dataset in [d for d in datasets if d is not None]:
        dataset.update(ann_file=ann, data_prefix=data_root)
        for step in dataset.get('pipeline') or ():
            if step.get('type') == 'LoadCachedClip':
                step['cache'] = cache
                reads_cache = True
    return reads_cache


def run_checkout(args: argparse.Namespace) -> dict:
    """Train ``warmup + iters`` iterations of this process's checkout; CPU figures."""
    import torch
    torch.set_num_threads(args.threads)
    from mmengine.config import Config
    from mmengine.hooks import Hook

    import mavil.datasets  # noqa: F401  (registers datasets and transforms)
    import mavil.engine  # noqa: F401  (registers runners, hooks, optimizer wrappers)
    import mavil.models  # noqa: F401
    from mavil.apis.stages import build_runner

    cfg = Config.fromfile(osp.join(args.checkout, CONFIG))
    reads_cache = set_data(cfg, args.data_root, args.cache)
    total = args.warmup + args.iters
    cfg.train_dataloader.batch_size = args.batch_size
    cfg.train_cfg.max_iters = total
    cfg.default_hooks.checkpoint.update(interval=10 * total, save_last=False)
    cfg.work_dir = args.work_dir
    cfg.randomness = dict(seed=args.seed, deterministic=False)
    cfg.log_level = 'WARNING'
    marks = dict(step=[], boundary=[])

    class StepStart(Hook):  # last before the step, and last after it: iteration boundary
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.start = time.process_time()

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            marks['boundary'].append((tree_cpu_seconds(), time.perf_counter()))

    start_hook = StepStart()

    class StepEnd(Hook):  # first after the step
        priority = 'HIGHEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            marks['step'].append(time.process_time() - start_hook.start)

    runner = build_runner(cfg)
    runner.register_hook(start_hook, priority='LOWEST')
    runner.register_hook(StepEnd(), priority='HIGHEST')
    runner.train()
    boundary = marks['boundary']
    (cpu0, wall0), (cpu1, wall1) = boundary[args.warmup - 1], boundary[-1]
    step = marks['step'][args.warmup:]
    return dict(checkout=args.checkout, reads_cache=reads_cache,
                workers=cfg.train_dataloader.get('num_workers', 0),
                pipeline=[s['type'] for s in cfg.train_dataloader.dataset.pipeline],
                cpu_per_iter=(cpu1 - cpu0) / args.iters, wall_per_iter=(wall1 - wall0) / args.iters,
                step_cpu_per_iter=sum(step) / len(step), step_cpu_median=statistics.median(step))


# --- the side-by-side driver -----------------------------------------------------------------
def build_demo_cache(data_root: str, cache: str) -> None:
    """This checkout's demo clip cache for ``data_root`` (raw frames, the demo's setting)."""
    sys.path.insert(0, ROOT)
    from mmengine.config import Config

    import mavil.datasets  # noqa: F401
    from mavil.datasets.annotations import load_annotations
    from mavil.datasets.cache import build_cache, settings_from_pipelines
    from mavil.datasets.cache.build import clip_key
    if osp.isfile(osp.join(cache, 'index.npz')):
        return
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    set_data(cfg, data_root, cache)
    records, _ = load_annotations(cfg.train_dataset.ann_file, data_prefix=data_root)
    files = {clip_key(r['filename'], data_root): r['filename'] for r in records}
    settings = settings_from_pipelines([cfg.train_pipeline, cfg.test_pipeline],
                                       frame_format='raw')
    report = build_cache(list(files.items()), cache, settings, data_prefix=data_root,
                         workers=1, progress=False)
    if report.unusable:
        raise RuntimeError(f'{report.unusable} clips of {data_root} could not be cached')


def training_flops_per_batch(batch_size: int) -> float:
    import copy

    from mmengine.config import Config

    from mavil.analysis.throughput import training_flops_per_sample
    from mavil.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    return training_flops_per_sample(MODELS.build(copy.deepcopy(cfg.model))) * batch_size


def spawn(checkout: str, args: argparse.Namespace, cache: str, work: str) -> dict:
    out = osp.join(work, 'result.json')
    command = [sys.executable, osp.abspath(__file__), '--run-checkout', checkout,
               '--data-root', args.data_root, '--cache', cache, '--iters', str(args.iters),
               '--warmup', str(args.warmup), '--threads', str(args.threads),
               '--batch-size', str(args.batch_size), '--seed', str(args.seed),
               '--work-dir', work, '--result', out]
    env = dict(os.environ, PYTHONPATH=checkout, OMP_NUM_THREADS=str(args.threads))
    subprocess.run(command, cwd=checkout, env=env, check=True)
    with open(out) as f:
        return json.load(f)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.run_checkout:
        args.checkout = osp.abspath(args.run_checkout)
        sys.path.insert(0, args.checkout)
        result = run_checkout(args)
        with open(args.result, 'w') as f:
            json.dump(result, f)
        return result

    import torch
    sys.path.insert(0, ROOT)
    from mavil.analysis.throughput import matmul_flops_per_s
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix='mavil_demo_step_')
    try:
        cache = args.cache or osp.join(work, 'cache')
        build_demo_cache(args.data_root, cache)
        flops = training_flops_per_batch(args.batch_size)
        peaks = [matmul_flops_per_s(torch.float32, clock=time.process_time)]
        checkouts = dict(before=osp.abspath(args.before), this=ROOT)
        runs = {name: [] for name in checkouts}
        print(f'{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; batch {args.batch_size}'
              f', {args.iters} timed iterations after {args.warmup}, torch threads '
              f'{args.threads}; {flops / 1e9:.1f} GFLOP of training work per batch', flush=True)
        for repeat in range(args.repeats):
            for name, checkout in checkouts.items():
                result = spawn(checkout, args, cache, osp.join(work, f'{name}_{repeat}'))
                result['load'] = os.getloadavg()[0]
                runs[name].append(result)
                print(f'  {name} run {repeat + 1}: {result["cpu_per_iter"]:.2f} CPU-s per '
                      f'iteration (step {result["step_cpu_per_iter"]:.2f}), '
                      f'{result["wall_per_iter"]:.2f} s wall; load {result["load"]:.1f}',
                      flush=True)
        peaks.append(matmul_flops_per_s(torch.float32, clock=time.process_time))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(runs, flops, max(peaks), args)


def report(runs: dict, flops: float, peak: float, args: argparse.Namespace) -> dict:
    rows = {}
    for name, results in runs.items():
        cpu = statistics.median(r['cpu_per_iter'] for r in results)
        step = statistics.median(r['step_cpu_per_iter'] for r in results)
        rows[name] = dict(cpu=cpu, step=step, other=cpu - step,
                          wall=statistics.median(r['wall_per_iter'] for r in results),
                          gflops_per_cpu_s=flops / cpu / 1e9, share=flops / cpu / peak,
                          step_share=flops / step / peak, runs=results)
    print(f'1-thread fp32 matmul peak {peak / 1e9:.0f} GFLOP/s; medians of {args.repeats} runs')
    header = (f'{"checkout":8s} {"loads from":14s} {"CPU-s/iter":>10s} {"step":>7s} '
              f'{"data+rest":>9s} {"wall s":>7s} {"GFLOP/CPU-s":>11s} {"% peak":>7s} '
              f'{"step % peak":>11s}')
    print(header + '\n' + '-' * len(header))
    for name, row in rows.items():
        first = row['runs'][0]
        source = ('clip cache' if first['reads_cache'] else 'files') + \
            f', {first["workers"]}w'
        print(f'{name:8s} {source:14s} {row["cpu"]:10.2f} {row["step"]:7.2f} '
              f'{row["other"]:9.2f} {row["wall"]:7.2f} {row["gflops_per_cpu_s"]:11.1f} '
              f'{100 * row["share"]:6.0f}% {100 * row["step_share"]:10.0f}%')
    ratio = rows['before']['cpu'] / rows['this']['cpu']
    pairs = [b['cpu_per_iter'] / t['cpu_per_iter'] for b, t in zip(runs['before'], runs['this'])]
    print(f'training work per CPU-second, this / before: {ratio:.2f}x (per alternating pair: '
          + ', '.join(f'{p:.2f}x' for p in pairs) + '; target >= 3x: '
          + ('met' if ratio >= 3 else 'not met') + ')')
    out = dict(rows=rows, flops_per_batch=flops, peak=peak, ratio=ratio, pair_ratios=pairs)
    if args.json:
        print(json.dumps(out, default=float))
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--before', help='the other checkout (its configs/demo/stage1.py and mavil)')
    p.add_argument('--data-root', required=True,
                   help='demo clips (python -m mavil.demo.generator DIR), read-only')
    p.add_argument('--cache', default=None, help='clip cache to reuse or build (default: temp)')
    p.add_argument('--iters', type=int, default=25, help='timed iterations per run')
    p.add_argument('--warmup', type=int, default=5, help='untimed iterations first')
    p.add_argument('--repeats', type=int, default=2, help='runs per checkout, alternating')
    p.add_argument('--threads', type=int, default=1, help='torch threads of the training process')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', action='store_true')
    p.add_argument('--run-checkout', default=None, help=argparse.SUPPRESS)
    p.add_argument('--work-dir', default=None, help=argparse.SUPPRESS)
    p.add_argument('--result', default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.run_checkout and not args.before:
        p.error('--before is required')
    if args.warmup < 1 or args.iters < 1:
        p.error('--warmup and --iters must be >= 1')
    return args


if __name__ == '__main__':
    main()
