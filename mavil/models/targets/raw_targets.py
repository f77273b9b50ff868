"""Stage-1 targets: the raw inputs cut into patches (spectrogram patches, RGB tubelets)."""
from math import prod

import torch
from torch import nn

from mavil.registry import MODELS
from ..layers import patchify


@MODELS.register_module()
class RawTargets(nn.Module):
    """inputs {'audio': [B, 1, T, F], 'video': [B, 3, T, H, W]} -> {modality: [B, N, P]}.

    Args:
        norm_per_patch: normalise each target patch to zero mean, unit variance (MAE's
            ``norm_pix_loss``); off by default.
    """

    def __init__(self, *, norm_per_patch: bool = False, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm_per_patch = norm_per_patch
        self.eps = eps

    def check_compatible(self, encoders: dict[str, nn.Module]) -> None:
        """Any encoder fits: its own patches are its targets."""

    @staticmethod
    def out_dim(encoder) -> int:
        """Target width for a modality: prod(patch size) x input channels."""
        pe = encoder.patch_embed
        return prod(pe.patch_size) * pe.in_channels

    @torch.no_grad()
    def forward(self, inputs: dict[str, torch.Tensor],
                encoders: dict[str, nn.Module]) -> dict[str, torch.Tensor]:
        targets = {}
        for modality, encoder in encoders.items():
            patches = patchify(inputs[modality], encoder.patch_embed.patch_size)
            if self.norm_per_patch:
                mean = patches.mean(dim=-1, keepdim=True)
                var = patches.var(dim=-1, keepdim=True)
                patches = (patches - mean) / (var + self.eps).sqrt()
            targets[modality] = patches
        return targets
