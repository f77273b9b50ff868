#!/usr/bin/env python
"""ViT-B stage-1 training step on one CUDA GPU: attention backend x precision x torch.compile,
with peak memory and MFU, as one markdown table (the timing part of benchmarks/gpu_check.sh).

    python benchmarks/gpu_step.py [--batch-size 32] [--steps 10] [--warmup 3]
        [--attn sdpa xformers] [--precisions fp32 bf16] [--compile off on]
        [--budget 330] [--out table.md] [--dry-run]

Each variant runs in a fresh subprocess (its own peak memory, its own compile cache):
warm-up steps (compilation happens there), then ``--steps`` timed steps with CUDA
synchronisation; "median ms" is the median step. One step = ``model.loss`` (under bf16
autocast for bf16) + backward + fused AdamW step. fp32 rows keep TF32 off (PyTorch's default
for matmuls), so they show true fp32 speed.

MFU = training FLOPs per step / step time / the device's dense bf16 matmul peak, measured
here with an 8192^3 bf16 matmul (the nominal datasheet peak is printed too when the device
is known). Training FLOPs = 3 x the masked-view forward (fvcore, 2 FLOPs per multiply-add,
intra-modal view included; mavil/analysis/throughput.py).

``--dry-run``: the same code on CPU with a tiny model at batch 2 (xformers rows report why
they cannot run, compile rows are skipped unless named in --compile): a smoke test of this
script on a machine without a GPU.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
GIB = 2**30
# dense bf16 tensor-core peaks from the vendors' datasheets (TFLOP/s), by device-name substring
NOMINAL_BF16_TFLOPS = {'H200': 989.0, 'H100 SXM': 989.0, 'H100 PCIe': 756.0, 'H100': 756.0,
                       'A100': 312.0, 'L40S': 362.0, 'A10': 125.0, 'L4': 121.0}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=osp.join(ROOT, 'configs/mavil/stage1.py'))
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--attn', nargs='+', default=['sdpa', 'xformers'],
                   choices=['sdpa', 'xformers', 'math'])
    p.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'], choices=['fp32', 'bf16'])
    p.add_argument('--compile', nargs='+', default=None, choices=['off', 'on'],
                   help='default: off on (off only with --dry-run)')
    p.add_argument('--budget', type=float, default=330.0,
                   help='seconds for all variants; later ones are skipped once it is spent')
    p.add_argument('--timeout', type=float, default=150.0, help='seconds per variant')
    p.add_argument('--out', default=None, help='also write the markdown table here')
    p.add_argument('--dry-run', action='store_true', help='tiny model on CPU, batch 2')
    p.add_argument('--variant', default=None, help=argparse.SUPPRESS)  # attn:precision:compile
    p.add_argument('--flops', type=float, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def cfg_options(args, attn: str) -> list:
    from profile_step import TINY
    options = list(TINY) if args.dry_run else []
    return options + [f'model.{c}.attn_backend={attn}' for c in (
        'audio_encoder', 'video_encoder', 'fusion', 'audio_decoder', 'video_decoder')]


def run_variant(args) -> dict:
    """One variant in this process: warm-up, timed steps, peak memory."""
    import torch

    import mavil.models  # noqa: F401
    from mavil.registry import MODELS
    from train_step import _load_cfg
    attn, precision, compiled = args.variant.split(':')
    device = torch.device('cpu' if args.dry_run else 'cuda')
    torch.manual_seed(0)
    model = MODELS.build(_load_cfg(args.config, cfg_options(args, attn)).model)
    model = model.to(device).train()
    inputs = {m: torch.randn(args.batch_size, e.patch_embed.in_channels,
                             *e.patch_embed.input_size, device=device)
              for m, e in model.encoders.items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95),
                                  weight_decay=1e-5, fused=True)
    loss_fn = torch.compile(model.loss) if compiled == 'on' else model.loss

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == 'bf16'):
            losses = loss_fn(inputs)
        loss, _ = model.parse_losses(losses)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    t0 = time.perf_counter()
    for _ in range(args.warmup):
        step()
    sync()
    warmup_s = time.perf_counter() - t0
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(args.steps):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated(device) / GIB
    else:
        with open('/proc/self/status') as f:
            peak = next(int(ln.split()[1]) * 1024 / GIB for ln in f if ln.startswith('VmHWM:'))
    return dict(median_s=statistics.median(times), best_s=min(times), warmup_s=warmup_s,
                peak_gib=peak)


def device_peak(args) -> dict:
    """Measured dense bf16 (and fp32) matmul peaks of this device, FLOP/s."""
    import torch

    from mavil.analysis.throughput import matmul_flops_per_s
    if args.dry_run:
        return dict(name='CPU (dry run)', bf16=matmul_flops_per_s(torch.bfloat16, size=128),
                    fp32=matmul_flops_per_s(torch.float32, size=256), nominal=None)
    name = torch.cuda.get_device_name(0)
    nominal = next((v * 1e12 for k, v in NOMINAL_BF16_TFLOPS.items() if k in name), None)
    return dict(name=name, nominal=nominal,
                bf16=matmul_flops_per_s(torch.bfloat16, size=8192, device='cuda'),
                fp32=matmul_flops_per_s(torch.float32, size=8192, device='cuda'))


def step_flops(args) -> float:
    import mavil.models  # noqa: F401
    from mavil.analysis.throughput import training_flops_per_sample
    from mavil.registry import MODELS
    from train_step import _load_cfg
    model = MODELS.build(_load_cfg(args.config, cfg_options(args, 'sdpa')).model)
    return training_flops_per_sample(model) * args.batch_size


def main(argv=None) -> list:
    args = parse_args(argv)
    if args.variant:
        print('RESULT ' + json.dumps(run_variant(args)), flush=True)
        return []
    import torch
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit('gpu_step.py: no CUDA device is visible to torch '
                         f'{torch.__version__}; run it on a GPU machine, or use --dry-run')
    if args.dry_run:  # a small shared CPU: imports and thread stalls dominate
        args.batch_size, args.steps, args.warmup = 2, 2, 1
        args.timeout, args.budget = max(args.timeout, 600), max(args.budget, 1200)
    compiles = args.compile or (['off'] if args.dry_run else ['off', 'on'])
    start = time.time()
    flops, peak = step_flops(args), device_peak(args)
    rows = []
    for attn in args.attn:
        for precision in args.precisions:
            for compiled in compiles:
                row = dict(attn=attn, precision=precision, compile=compiled)
                rows.append(row)
                if attn == 'xformers':
                    try:
                        from mavil.models.layers import check_attention_backend
                        check_attention_backend('xformers')
                    except RuntimeError as err:
                        row['error'] = f'unavailable: {err}'.split(';')[0].replace('|', '/')
                        continue
                if time.time() - start > args.budget:
                    row['error'] = 'skipped: time budget spent'
                    continue
                cmd = [sys.executable, osp.abspath(__file__), '--variant',
                       f'{attn}:{precision}:{compiled}', '--config', args.config,
                       '--batch-size', str(args.batch_size), '--steps', str(args.steps),
                       '--warmup', str(args.warmup)] + (['--dry-run'] if args.dry_run else [])
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True,
                                          timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    row['error'] = f'timed out after {args.timeout:.0f} s'
                    continue
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT ')]
                if proc.returncode != 0 or not lines:
                    last = (proc.stderr.strip().splitlines() or ['no output'])[-1]
                    row['error'] = f'failed: {last[-160:]}'
                    continue
                row.update(json.loads(lines[-1][len('RESULT '):]))
                row['mfu'] = flops / row['median_s'] / peak['bf16']
                print(f'  {attn} {precision} compile {compiled}: {row["median_s"] * 1e3:.0f} '
                      f'ms', file=sys.stderr, flush=True)
    table = format_table(rows, args, flops, peak, time.time() - start)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')
    return rows


def format_table(rows, args, flops, peak, elapsed) -> str:
    import torch
    nominal = (f', nominal {peak["nominal"] / 1e12:.0f} TFLOP/s' if peak['nominal'] else '')
    model = 'tiny MAViL (dry run)' if args.dry_run else 'ViT-B MAViL'
    lines = [f'{model} stage-1 training step, batch {args.batch_size}, {peak["name"]}, '
             f'torch {torch.__version__}; {flops / 1e12:.2f} TFLOP per step; measured matmul '
             f'peaks: bf16 {peak["bf16"] / 1e12:.1f} TFLOP/s{nominal}, fp32 '
             f'{peak["fp32"] / 1e12:.1f} TFLOP/s; MFU against the measured bf16 peak; '
             f'{args.steps} timed steps per row; {elapsed:.0f} s in all', '',
             '| attention | precision | compile | median ms | best ms | clips/s | peak GiB | '
             'MFU | warm-up s |', '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |']
    for r in rows:
        head = f'| {r["attn"]} | {r["precision"]} | {r["compile"]} |'
        if 'error' in r:
            lines.append(f'{head} {r["error"]} | | | | | |')
            continue
        lines.append(f'{head} {r["median_s"] * 1e3:.0f} | {r["best_s"] * 1e3:.0f} | '
                     f'{args.batch_size / r["median_s"]:.1f} | {r["peak_gib"]:.1f} | '
                     f'{100 * r["mfu"]:.1f} % | {r["warmup_s"]:.0f} |')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
