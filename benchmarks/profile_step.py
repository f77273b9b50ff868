#!/usr/bin/env python
"""Op-level profile of one MAViL training step (torch.profiler), with the step's utilisation
of the matmul peak measured in the same run.

    python benchmarks/profile_step.py [--config configs/mavil/stage1.py] [--batch-size 2]
        [--threads 2] [--warmup 1] [--steps 1] [--top 10] [--with-cp] [--amp]
        [--cfg-options model.fusion.depth=1 ...] [--sort self_cpu_time_total]
        [--dry-run]

One step = forward (``model.loss``) + backward + AdamW step on random inputs of the config's
sizes, as benchmarks/train_step.py times it. The table lists the top ops by self time (time
spent in the op itself, not in the ops it calls), summed over the profiled steps.
``--dry-run`` profiles a tiny model (a seconds-long smoke run of this script).
"""
import argparse
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

TINY = ['model.audio_encoder.arch=tiny', 'model.video_encoder.arch=tiny',
        'model.audio_encoder.input_size=(64,32)', 'model.video_encoder.input_size=(4,32,32)',
        'model.fusion.embed_dim=192', 'model.fusion.num_heads=3',
        'model.audio_decoder.embed_dim=64', 'model.audio_decoder.depth=1',
        'model.audio_decoder.num_heads=2', 'model.video_decoder.embed_dim=64',
        'model.video_decoder.depth=1', 'model.video_decoder.num_heads=2']


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=osp.join(ROOT, 'configs/mavil/stage1.py'))
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--steps', type=int, default=1, help='profiled steps')
    p.add_argument('--top', type=int, default=10)
    p.add_argument('--sort', default='self_cpu_time_total')
    p.add_argument('--shapes', action='store_true', help='group the table by input shapes')
    p.add_argument('--with-cp', action='store_true', help='activation checkpointing on')
    p.add_argument('--amp', action='store_true', help='bf16 autocast forward')
    p.add_argument('--fused-adamw', type=int, default=1, choices=[0, 1],
                   help='AdamW(fused=True) as the pre-training schedule (0: foreach)')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE')
    p.add_argument('--dry-run', action='store_true', help='a tiny model, seconds')
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    import torch
    from torch.profiler import ProfilerActivity, profile

    sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
    from train_step import WITH_CP, _load_cfg

    import mavil.models  # noqa: F401
    from mavil.analysis.throughput import matmul_flops_per_s, training_flops_per_sample
    from mavil.registry import MODELS

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    options = ((TINY if args.dry_run else []) + (WITH_CP if args.with_cp else []) +
               args.cfg_options)
    model = MODELS.build(_load_cfg(args.config, options).model).train()
    flops = training_flops_per_sample(model) * args.batch_size
    inputs = {m: torch.randn(args.batch_size, e.patch_embed.in_channels,
                             *e.patch_embed.input_size) for m, e in model.encoders.items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95),
                                  weight_decay=1e-5, fused=args.fused_adamw)

    def step() -> float:
        t0 = clock()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.amp):
            losses = model.loss(inputs)
        loss, _ = model.parse_losses(losses)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return clock() - t0

    # one thread: CPU seconds of this process do not count the time other processes hold the
    # core, so figures stay comparable on a shared machine; with more threads, wall clock
    clock = time.process_time if args.threads == 1 else time.perf_counter
    load = os.getloadavg()[0]
    size = 256 if args.dry_run else 1024
    peak = matmul_flops_per_s(torch.float32, size=size, clock=clock)
    for _ in range(args.warmup):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=args.shapes) as prof:
        times = [step() for _ in range(args.steps)]
    unprofiled = step()
    peak = max(peak, matmul_flops_per_s(torch.float32, size=size, clock=clock))
    best = min(times + [unprofiled])
    print(f'config {osp.relpath(args.config, ROOT)} {" ".join(options)}; batch '
          f'{args.batch_size}, {args.threads} threads, torch {torch.__version__}, '
          f'with_cp={args.with_cp}, amp={args.amp}; load average before {load:.1f}, after '
          f'{os.getloadavg()[0]:.1f}')
    print(f'clock: {"CPU (process)" if args.threads == 1 else "wall"} seconds')
    print(f'step: profiled {", ".join(f"{t:.2f}" for t in times)} s, unprofiled '
          f'{unprofiled:.2f} s; work {flops / 1e9:.0f} GFLOP; fp32 matmul peak '
          f'{peak / 1e9:.0f} GFLOP/s; best step = {flops / best / peak:.0%} of peak')
    print(prof.key_averages(group_by_input_shape=args.shapes).table(
        sort_by=args.sort, row_limit=args.top, max_name_column_width=40))


if __name__ == '__main__':
    main()
