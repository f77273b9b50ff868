"""Machine yardsticks for speed figures: the matmul peak measured in the same run, and the
training work of one MAViL pre-training step.

Absolute step times differ between machines (and, on a shared machine, between minutes), so
benchmarks report a step as a fraction of a matmul peak they measure themselves:
``utilisation = training FLOPs / step seconds / matmul FLOP/s``.

Conventions: a FLOP is one multiply OR one add (a multiply-add is 2 FLOPs), as GFLOP/s peaks
are quoted; fvcore counts multiply-adds, so its counts are doubled here.
"""
import time
from typing import Callable, Optional

import torch
from torch import nn


def matmul_flops_per_s(dtype: torch.dtype = torch.float32,
                       *,
                       size: int = 1024,
                       repeats: int = 5,
                       min_seconds: float = 0.05,
                       device: torch.device | str = 'cpu',
                       clock: Callable[[], float] = time.perf_counter) -> float:
    """Best-of-``repeats`` FLOP/s of a square ``size`` matmul (2 * size^3 FLOPs each).

    The best repeat is the peak: background load only ever slows a repeat down. Each repeat
    runs enough matmuls to last ``min_seconds``. ``clock`` may be ``time.process_time`` for
    single-threaded CPU figures that ignore time spent descheduled on a shared machine.
    """
    device = torch.device(device)
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)

    def sync() -> None:
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    torch.mm(a, b)  # warm-up (allocations, kernel selection)
    sync()
    start = clock()
    torch.mm(a, b)
    sync()
    one = max(clock() - start, 1e-9)
    count = max(1, int(min_seconds / one))
    best = float('inf')
    for _ in range(repeats):
        sync()
        start = clock()
        for _ in range(count):
            torch.mm(a, b)
        sync()
        best = min(best, (clock() - start) / count)
    return 2.0 * size**3 / best


def bf16_matmul_slowdown(size: int = 128, repeats: int = 3) -> float:
    """fp32 / bf16 speed ratio of a small CPU matmul: > 1 means bf16 is SLOWER (emulated).

    A tiny single-threaded probe (~0.1 s; one thread so that a busy machine cannot stall it
    at thread barriers): enough to tell AMX / AVX512-BF16 (bf16 several times faster) from
    CPUs that emulate bf16 (~10x slower on an AVX2 AMD EPYC).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fp32 = matmul_flops_per_s(torch.float32, size=size, repeats=repeats, min_seconds=0.01)
        bf16 = matmul_flops_per_s(torch.bfloat16, size=size, repeats=repeats,
                                  min_seconds=0.01)
    finally:
        torch.set_num_threads(threads)
    return fp32 / bf16


def training_flops_per_sample(model: nn.Module) -> float:
    """FLOPs (2 per multiply-add) of one stage-1 training sample of a MAViL model.

    Forward = the masked view of every component (fvcore, attention included) plus, with an
    intra-modal loss, a second masked pass of each encoder's blocks (the patch embedding is
    shared); backward = 2x forward. Stage 2 adds the teacher's full-view forward, counted
    separately by the caller if wanted.
    """
    from .flops import count_component_flops
    records = {r['component']: r['gflops'] * 1e9
               for r in count_component_flops(model, views=('masked', ))}
    forward = sum(records.values())
    if getattr(model, 'intra_loss', None) is not None:
        for modality in ('audio', 'video'):
            encoder = getattr(model, f'{modality}_encoder', None)
            if encoder is None:
                continue
            pe = encoder.patch_embed
            embed_macs = pe.num_patches * encoder.embed_dim * pe.in_channels * int(
                torch.tensor(pe.patch_size).prod())
            forward += records[f'{modality}_encoder'] - embed_macs
    return 3 * 2 * forward


def utilisation(flops: float, seconds: float, peak_flops_per_s: float) -> float:
    """Achieved fraction of the peak: flops / seconds / peak."""
    return flops / seconds / peak_flops_per_s


def format_rate(flops_per_s: Optional[float]) -> str:
    return '-' if flops_per_s is None else f'{flops_per_s / 1e9:.0f} GFLOP/s'
