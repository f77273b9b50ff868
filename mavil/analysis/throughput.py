"""Machine yardsticks for speed figures: the matmul peak measured in the same run, and the
training work of one MAViL pre-training step.

Absolute step times differ between machines (and, on a shared machine, between minutes), so
benchmarks report a step as a fraction of a matmul peak they measure themselves:
``utilisation = training FLOPs / step seconds / matmul FLOP/s``.

Conventions: a FLOP is one multiply OR one add (a multiply-add is 2 FLOPs), as GFLOP/s peaks
are quoted; fvcore counts multiply-adds, so its counts are doubled here.
"""
from typing import Optional

import torch
from torch import nn

from mavil.hardware import matmul_flops_per_s  # noqa: F401  (the peak of the figures here)


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
