#!/usr/bin/env python
"""ViT-B training-step time and memory: stage 1 vs stage 2 (frozen teacher), fp32 vs bf16.

    python benchmarks/train_step.py [--batch-size 2] [--warmup 1] [--iters 2]
        [--precisions fp32 bf16] [--teacher-autocast auto off] [--device cpu|cuda]
        [--cfg-options model.audio_encoder.arch=small ...] [--json out.json]

One training step = forward (masked encoders, fusion, decoders, targets, losses) + backward +
AdamW step, on random inputs of the configs' sizes. Stage 2's teacher is a randomly initialised
stage-1 model saved to a temporary checkpoint (its speed does not depend on its weights).

Timing: each student precision runs in a fresh subprocess that holds the stage-1 and the
stage-2 model and ALTERNATES their steps (stage 1, stage 2 with each teacher precision, then the
reverse order, ...), so that load from other processes on a shared machine hits all cases alike.
"best s" is the fastest step (load only ever slows a step down), "median s" the median; the
ratio to stage 1 uses the best times. On a busy machine use --threads 1: with more threads, each
op's OpenMP barrier waits for whichever thread the OS has descheduled, and step times swing
by 10x and more.

Memory: each (stage, precision) trains one step in a fresh subprocess of its own; "peak GiB" is
that process's peak RSS (CPU: Python, weights, teacher, AdamW state, gradients, activations) or
``torch.cuda.max_memory_allocated`` (CUDA). "weights GiB" are the student's (+ the teacher's).

Utilisation ("% fp32 peak", stage 1): training FLOPs of the step (3 x the masked-view forward,
fvcore, intra view included; mavil/analysis/throughput.py) / step time / the fp32 matmul peak
measured right before and after that step's round, so a busy machine slows both alike; median
(best) over the timed steps. The optimizer is AdamW(fused=True), as the pre-training schedule.

    --with-cp      activation checkpointing in every Transformer stack (with_cp=True)
    --cp-compare   instead: stage-1 step time with with_cp off vs on (interleaved, same
                   weights) and each one's peak memory (own process)

"bf16" student = forward under torch.autocast (what tools/train.py --amp does). Teacher: auto =
TeacherTargets' default (``mavil.hardware.bf16_is_faster``: bf16 autocast on CUDA with bf16, on
CPUs with AMX, and on other CPUs only where a cached bf16 vs fp32 matmul probe measured bf16
faster), off = fp32, on = bf16.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
GIB = 2**30
# activation checkpointing in every Transformer stack of the model
WITH_CP = [f'model.{c}.with_cp=True' for c in ('audio_encoder', 'video_encoder', 'fusion',
                                               'audio_decoder', 'video_decoder')]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--stage1-config', default=osp.join(ROOT, 'configs/mavil/stage1.py'))
    p.add_argument('--stage2-config', default=osp.join(ROOT, 'configs/mavil/stage2_iter1.py'))
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1, help='untimed rounds')
    p.add_argument('--iters', type=int, default=2, help='timed rounds')
    p.add_argument('--no-memory', action='store_true', help='skip the memory subprocesses')
    p.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'], choices=['fp32', 'bf16'])
    p.add_argument('--teacher-autocast', nargs='+', default=['auto', 'off'],
                   choices=['auto', 'on', 'off'], help='stage-2 teacher precision(s)')
    p.add_argument('--device', default=None, help='cpu | cuda (default: cuda if available)')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='model overrides for student and teacher (e.g. a smaller arch)')
    p.add_argument('--json', default=None, help='also write the results here')
    p.add_argument('--with-cp', action='store_true',
                   help='activation checkpointing in every Transformer stack (with_cp=True)')
    p.add_argument('--cp-compare', action='store_true',
                   help='instead of the table below: stage 1 with with_cp off vs on, step time '
                        '(interleaved) and peak memory (one process each)')
    p.add_argument('--flops', type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument('--cp', default=None, help=argparse.SUPPRESS)
    # exact contrast accumulation: its own row, see run_exact_contrast below
    p.add_argument('--exact-contrast', type=int, default=None, metavar='MICRO_BATCHES',
                   help='instead of the table above: stage-1 step time of exact contrast '
                        'accumulation vs plain accumulation over MICRO_BATCHES micro-batches '
                        'of --batch-size (fp32, or bf16 with --precisions bf16)')
    # internal: what a subprocess runs
    p.add_argument('--precision', default=None, help=argparse.SUPPRESS)
    p.add_argument('--memory-stage', default=None, help=argparse.SUPPRESS)
    p.add_argument('--teacher-ckpt', default=None, help=argparse.SUPPRESS)
    p.add_argument('--teacher-config', default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _load_cfg(path: str, options: list[str]):
    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(path)
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--o', *options]).o)
    return cfg


def _nbytes(module) -> float:
    return sum(t.numel() * t.element_size()
               for t in list(module.parameters()) + list(module.buffers())) / GIB


def build_models(args: argparse.Namespace, stages=('1', '2')) -> dict:
    import mavil.models  # noqa: F401
    from mavil.registry import MODELS
    models = {}
    if '1' in stages:
        models['1'] = MODELS.build(_load_cfg(args.stage1_config, args.cfg_options).model)
    if '2' in stages:
        models['2'] = MODELS.build(_load_cfg(args.stage2_config, args.cfg_options + [
            f'model.target.teacher_config={args.teacher_config}',
            f'model.target.teacher_ckpt={args.teacher_ckpt}']).model)
    return models


class Case:
    """A model and its optimizer; ``step()`` runs (and times) one training step."""

    def __init__(self, stage: str, model, optimizer, precision: str, device, inputs,
                 teacher: str = '-') -> None:
        self.stage, self.model, self.optimizer = stage, model, optimizer
        self.precision, self.device, self.inputs, self.teacher = precision, device, inputs, teacher
        self.teacher_autocast = {'auto': None, 'on': True, 'off': False}.get(teacher)
        self.wall: list[float] = []
        self.teacher_wall: list[float] = []

    def _sync(self) -> None:
        import torch
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def step(self, record: bool = False) -> None:
        import torch
        target = self.model.target
        has_teacher = hasattr(target, 'teacher')
        teacher_s = [0.0]
        if has_teacher:
            target.autocast = self.teacher_autocast
            forward = type(target).forward

            def timed(mod, *a, **k):  # the teacher's share of the step
                self._sync()
                t0 = time.perf_counter()
                out = forward(mod, *a, **k)
                self._sync()
                teacher_s[0] += time.perf_counter() - t0
                return out
            target.forward = timed.__get__(target)
        self._sync()
        t0 = time.perf_counter()
        with torch.autocast(self.device.type, dtype=torch.bfloat16,
                            enabled=self.precision == 'bf16'):
            losses = self.model.loss(self.inputs)
        loss, _ = self.model.parse_losses(losses)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self._sync()
        if record:
            self.wall.append(time.perf_counter() - t0)
            self.teacher_wall.append(teacher_s[0])

    def result(self) -> dict:
        target = self.model.target
        teacher = getattr(target, 'teacher', None)
        label = '-'
        if teacher is not None:
            target.autocast = self.teacher_autocast
            bf16 = target.use_autocast(self.device.type)
            label = f'{self.teacher} ({"bf16" if bf16 else "fp32"})'
        return dict(stage=self.stage, precision=self.precision, teacher=label,
                    best_s=min(self.wall), median_s=statistics.median(self.wall),
                    steps_s=self.wall,
                    teacher_s=min(self.teacher_wall) if teacher is not None else None,
                    student_gib=_nbytes(self.model),
                    teacher_gib=_nbytes(teacher) if teacher is not None else 0.0)


def _setup(args: argparse.Namespace):
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return torch.device(args.device)


def _inputs(model, batch_size: int, device) -> dict:
    import torch
    return {m: torch.randn(batch_size, e.patch_embed.in_channels, *e.patch_embed.input_size,
                           device=device) for m, e in model.encoders.items()}


def _optimizer(model):
    """AdamW as the pre-training schedule builds it (fused: one kernel per tensor)."""
    import torch
    return torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95),
                             weight_decay=1e-5, fused=True)


def _peak(device) -> float:
    """fp32 matmul FLOP/s now (measured between steps: the yardstick of the same minute)."""
    from mavil.analysis.throughput import matmul_flops_per_s
    return matmul_flops_per_s(size=1024 if device.type == 'cpu' else 8192, repeats=3,
                              device=device)


def run_timing(args: argparse.Namespace) -> list[dict]:
    """Both stages in one process, steps interleaved; one stage-2 model serves every teacher
    precision (the teacher's precision is a flag of its forward)."""
    device = _setup(args)
    models = {k: m.to(device).train() for k, m in build_models(args).items()}
    inputs = _inputs(models['1'], args.batch_size, device)
    cases = [Case('1', models['1'], _optimizer(models['1']), args.precision, device, inputs)]
    opt2 = _optimizer(models['2'])
    cases += [Case('2', models['2'], opt2, args.precision, device, inputs, t)
              for t in args.teacher_autocast]
    peaks = []  # fp32 matmul peak before each timed round and after the last
    for r in range(args.warmup + args.iters):
        if r >= args.warmup:
            peaks.append(_peak(device))
        for case in (cases if r % 2 == 0 else cases[::-1]):
            case.step(record=r >= args.warmup)
    peaks.append(_peak(device))
    results = [c.result() for c in cases]
    if args.flops:  # stage 1's utilisation of the peak around each of its steps
        utils = [args.flops / wall / ((peaks[i] + peaks[i + 1]) / 2)
                 for i, wall in enumerate(cases[0].wall)]
        results[0].update(util_median=statistics.median(utils), util_best=max(utils),
                          peak_flops=statistics.median(peaks), flops=args.flops)
    return results


def run_memory(args: argparse.Namespace) -> dict:
    """One stage alone: build, one training step, the process's peak memory."""
    import torch
    device = _setup(args)
    stage = args.memory_stage
    model = build_models(args, stages=(stage, ))[stage].to(device).train()
    case = Case(stage, model, _optimizer(model), args.precision, device,
                _inputs(model, args.batch_size, device), 'auto' if stage == '2' else '-')
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    case.step()
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated(device) / GIB
    else:
        with open('/proc/self/status') as f:
            peak = next(int(ln.split()[1]) * 1024 / GIB for ln in f if ln.startswith('VmHWM:'))
    return dict(stage=stage, precision=args.precision, peak_gib=peak)


def make_teacher(args: argparse.Namespace, folder: str) -> tuple[str, str]:
    """A random stage-1 model: (its config with --cfg-options applied, its checkpoint)."""
    import torch

    import mavil.models  # noqa: F401
    from mavil.registry import MODELS
    torch.manual_seed(0)
    cfg = _load_cfg(args.stage1_config, args.cfg_options)
    config, ckpt = osp.join(folder, 'teacher_stage1.py'), osp.join(folder, 'teacher.pth')
    cfg.dump(config)
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict(), 'meta': {}}, ckpt)
    return config, ckpt


def stage1_flops(args: argparse.Namespace) -> float:
    """Training FLOPs of one stage-1 step (3 x masked-view forward, fvcore, batch-scaled)."""
    import mavil.models  # noqa: F401
    from mavil.analysis.throughput import training_flops_per_sample
    from mavil.registry import MODELS
    model = MODELS.build(_load_cfg(args.stage1_config, args.cfg_options).model)
    return training_flops_per_sample(model) * args.batch_size


def run_cp_compare(args: argparse.Namespace) -> list[dict]:
    """Stage 1 with activation checkpointing off and on: interleaved step times in one
    process (same weights, same inputs), then each one's peak memory in its own process."""
    import torch
    if args.cp:  # subprocess: one setting's peak memory
        args.cfg_options = args.cfg_options + (WITH_CP if args.cp == 'on' else [])
        args.memory_stage = '1'
        return [run_memory(args)]
    device = _setup(args)
    models = {'off': build_models(args, stages=('1', ))['1']}
    args_on = argparse.Namespace(**{**vars(args), 'cfg_options': args.cfg_options + WITH_CP})
    models['on'] = build_models(args_on, stages=('1', ))['1']
    models['on'].load_state_dict(models['off'].state_dict())
    inputs = _inputs(models['off'], args.batch_size, device)
    cases = {k: Case('1', m.to(device).train(), _optimizer(m), 'fp32', device, inputs)
             for k, m in models.items()}
    for r in range(args.warmup + args.iters):
        for key in (('off', 'on') if r % 2 == 0 else ('on', 'off')):
            cases[key].step(record=r >= args.warmup)
    forwarded = ['--stage1-config', args.stage1_config, '--batch-size', str(args.batch_size),
                 '--device', args.device] + (['--threads', str(args.threads)] if args.threads
                                             else [])
    if args.cfg_options:
        forwarded += ['--cfg-options', *args.cfg_options]
    rows = []
    for key, case in cases.items():
        peak = _subprocess(args, ['--cp-compare', '--cp', key], forwarded)['peak_gib']
        rows.append(dict(with_cp=key, best_s=min(case.wall),
                         median_s=statistics.median(case.wall), peak_gib=peak))
    mem = 'GPU' if device.type == 'cuda' else 'RSS'
    print(f'\nActivation checkpointing (with_cp), stage 1 ({osp.relpath(args.stage1_config, ROOT)}'
          f'{" " + " ".join(args.cfg_options) if args.cfg_options else ""}), batch '
          f'{args.batch_size}, fp32, {device} ({torch.get_num_threads()} threads); {args.iters} '
          f'interleaved steps each; load average now {os.getloadavg()[0]:.1f}')
    print(f'| with_cp | best s | median s | peak {mem} GiB |')
    print('| --- | ---: | ---: | ---: |')
    for r in rows:
        print(f'| {r["with_cp"]} | {r["best_s"]:.2f} | {r["median_s"]:.2f} | '
              f'{r["peak_gib"]:.2f} |')
    off, on = rows
    print(f'with_cp on: {on["best_s"] / off["best_s"]:.2f}x the step time (best), '
          f'{on["peak_gib"] / off["peak_gib"]:.2f}x the peak memory')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(args=vars(args), results=rows), f, indent=2)
    return rows


def _subprocess(args: argparse.Namespace, extra: list[str], forwarded: list[str]):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run([sys.executable, osp.abspath(__file__), *extra, *forwarded],
                          capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT ')]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f'{" ".join(extra)} failed:\n{proc.stderr[-3000:]}')
    return json.loads(lines[-1][len('RESULT '):])


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    import torch
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.exact_contrast:  # a separate measurement, not the table below
        return [run_exact_contrast(args)]
    if args.with_cp:
        args.cfg_options = args.cfg_options + WITH_CP
    if args.cp_compare:  # a separate measurement, not the table below
        rows = run_cp_compare(args)
        if args.cp:
            print('RESULT ' + json.dumps(rows[0]), flush=True)
        return rows
    if args.memory_stage:
        print('RESULT ' + json.dumps(run_memory(args)), flush=True)
        return []
    if args.precision:
        print('RESULT ' + json.dumps(run_timing(args)), flush=True)
        return []
    results, start = [], time.time()
    with tempfile.TemporaryDirectory() as tmp:
        teacher_config, ckpt = make_teacher(args, tmp)
        forwarded = ['--stage1-config', args.stage1_config, '--stage2-config',
                     args.stage2_config, '--batch-size', str(args.batch_size), '--warmup',
                     str(args.warmup), '--iters', str(args.iters), '--device', args.device,
                     '--teacher-ckpt', ckpt, '--teacher-config', teacher_config,
                     '--teacher-autocast', *args.teacher_autocast]
        if args.threads:
            forwarded += ['--threads', str(args.threads)]
        if args.cfg_options:
            forwarded += ['--cfg-options', *args.cfg_options]
        flops = stage1_flops(args)
        for precision in args.precisions:
            rows = _subprocess(args, ['--precision', precision, '--flops', str(flops)],
                               forwarded)
            if not args.no_memory:
                peaks = {s: _subprocess(args, ['--precision', precision, '--memory-stage', s],
                                        forwarded)['peak_gib'] for s in ('1', '2')}
                for row in rows:
                    row['peak_gib'] = peaks[row['stage']]
            results += rows
            print(f'  {precision} done ({time.time() - start:.0f} s)', file=sys.stderr,
                  flush=True)
    print_table(results, args, time.time() - start)
    threads = args.threads or torch.get_num_threads()
    if args.device == 'cpu' and threads > 1 and os.getloadavg()[0] > 0.75 * os.cpu_count():
        print('note: the machine is busy; multi-threaded CPU steps wait at every OpenMP barrier '
              'for a descheduled thread and their times become erratic (10x and more): '
              'compare with --threads 1')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(args=vars(args), results=results), f, indent=2)
    return results


def print_table(results: list[dict], args: argparse.Namespace, elapsed: float) -> None:
    import torch
    mem = 'GPU' if args.device.startswith('cuda') else 'RSS'
    threads = args.threads or torch.get_num_threads()
    print(f'\nMAViL training step, batch {args.batch_size}, {args.device} ({threads} threads, '
          f'torch {torch.__version__}); {args.iters} interleaved steps per case after '
          f'{args.warmup} warm-up; {elapsed:.0f} s in all; load average now '
          f'{os.getloadavg()[0]:.1f}')
    if args.device == 'cpu' and 'auto' in args.teacher_autocast:
        from mavil import hardware
        probe = 'AMX, no probe' if hardware.cpu_has_amx() else (
            f'bf16 matmul probe at {hardware.bf16_probe().speedup:.2f}x the fp32 speed '
            f'(cache {hardware.cache_path()})')
        print(f'teacher auto: {"bf16" if hardware.bf16_is_faster("cpu") else "fp32"} '
              f'(mavil.hardware.bf16_is_faster: {probe})')
    util = next((r for r in results if 'util_median' in r), None)
    if util:
        print(f'% fp32 peak (stage 1): {util["flops"] / 1e9:.0f} GFLOP per step (3 x masked-view '
              f'forward, intra view included) / step time / the fp32 matmul peak measured '
              f'around that step (median {util["peak_flops"] / 1e9:.0f} GFLOP/s); median '
              f'(best) step')
    cols = [('stage', 5), ('student', 7), ('teacher', 11), ('best s', 7), ('median s', 8),
            ('teacher fwd s', 13), ('vs stage 1', 10), ('weights GiB', 11),
            (f'peak {mem} GiB', 12), ('% fp32 peak', 11)]
    print('| ' + ' | '.join(f'{n:<{w}}' for n, w in cols) + ' |')
    print('|' + '|'.join('-' * (w + 2) for _, w in cols) + '|')
    stage1 = {r['precision']: r for r in results if r['stage'] == '1'}
    for r in results:
        weights = (f'{r["student_gib"]:.2f}' if not r['teacher_gib'] else
                   f'{r["student_gib"]:.2f}+{r["teacher_gib"]:.2f}')
        peak = r.get('peak_gib')
        row = [r['stage'], r['precision'], r['teacher'], f'{r["best_s"]:.2f}',
               f'{r["median_s"]:.2f}', '-' if r['teacher_s'] is None else f'{r["teacher_s"]:.2f}',
               f'{r["best_s"] / stage1[r["precision"]]["best_s"]:.2f}x', weights,
               '-' if peak is None else f'{peak:.2f}',
               f'{100 * r["util_median"]:.0f} ({100 * r["util_best"]:.0f})'
               if 'util_median' in r else '-']
        print('| ' + ' | '.join(f'{v:<{w}}' if i < 3 else f'{v:>{w}}'
                                for i, (v, (_, w)) in enumerate(zip(row, cols))) + ' |')


# ---------------------------------------------------------------------------------------------
# Exact contrast accumulation vs plain gradient accumulation, stage 1.
# One optimizer step over A micro-batches of --batch-size, both through MMEngine's OptimWrapper:
#   plain: A x model.train_step(batch) with accumulative_counts=A (each micro-batch contrasted
#          alone); exact: model.train_step(MicroBatches) (two passes: one extra no-grad encoder
#          forward per micro-batch, contrast over all A x batch clips).
# Steps alternate (plain, exact, exact, plain, ...) in one process; "best s" is the fastest.
def run_exact_contrast(args: argparse.Namespace) -> dict:
    import torch
    from mmengine.optim import OptimWrapper

    from mavil.structures import MicroBatches
    device = _setup(args)
    model = build_models(args, stages=('1', ))['1'].to(device).train()
    count, precision = args.exact_contrast, args.precisions[0]
    batches = [{'inputs': _inputs(model, args.batch_size, device), 'data_samples': None}
               for _ in range(count)]
    optimizer = _optimizer(model)
    plain_wrapper = OptimWrapper(optimizer, accumulative_counts=count)
    exact_wrapper = OptimWrapper(optimizer)

    def plain_step():
        for data in batches:
            model.train_step(data, plain_wrapper)

    def exact_step():
        model.train_step(MicroBatches(batches), exact_wrapper)

    walls = {'plain': [], 'exact': []}
    steps = [('plain', plain_step), ('exact', exact_step)]
    for r in range(args.warmup + args.iters):
        for name, step in (steps if r % 2 == 0 else steps[::-1]):
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == 'bf16'):
                step()
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            if r >= args.warmup:
                walls[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in walls.items()}
    result = dict(micro_batches=count, batch_size=args.batch_size, precision=precision,
                  device=str(device), threads=torch.get_num_threads(),
                  plain_best_s=best['plain'], exact_best_s=best['exact'],
                  plain_median_s=statistics.median(walls['plain']),
                  exact_median_s=statistics.median(walls['exact']),
                  overhead=best['exact'] / best['plain'] - 1)
    print(f'\nExact contrast accumulation vs plain accumulation, stage 1 '
          f'({osp.relpath(args.stage1_config, ROOT)}), {count} micro-batches of '
          f'{args.batch_size}, {precision}, {device} ({result["threads"]} threads, torch '
          f'{torch.__version__}), {args.iters} timed steps each')
    print('| accumulation | best s | median s |')
    print('| --- | ---: | ---: |')
    for name in ('plain', 'exact'):
        print(f'| {name} | {best[name]:.2f} | {statistics.median(walls[name]):.2f} |')
    print(f'exact-mode overhead: {100 * result["overhead"]:+.1f} % of the step (best times)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(args=vars(args), results=[result]), f, indent=2)
    return result
# ---------------------------------------------------------------------- end of exact contrast


if __name__ == '__main__':
    main()
