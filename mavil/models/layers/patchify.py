"""Cut inputs into flattened patches in the same row-major order as PatchEmbed's tokens."""
from math import prod
from typing import Sequence

import torch

from .patch_embed import grid_shape


def patchify(x: torch.Tensor, patch_size: Sequence[int]) -> torch.Tensor:
    """[B, C, *S] -> [B, N, prod(patch) * C]; values ordered (patch dims..., channel)."""
    B, C, *spatial = x.shape
    grid = grid_shape(spatial, patch_size)
    n = len(patch_size)
    # [B, C, g0, p0, g1, p1, ...] -> [B, g0, g1, ..., p0, p1, ..., C]
    x = x.reshape(B, C, *[v for g, p in zip(grid, patch_size) for v in (g, p)])
    perm = [0] + [2 + 2 * i for i in range(n)] + [3 + 2 * i for i in range(n)] + [1]
    return x.permute(perm).reshape(B, prod(grid), prod(patch_size) * C)


def unpatchify(patches: torch.Tensor, patch_size: Sequence[int], grid_size: Sequence[int],
               channels: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: [B, N, prod(patch) * C] -> [B, C, *S]."""
    B = patches.shape[0]
    n = len(patch_size)
    x = patches.reshape(B, *grid_size, *patch_size, channels)
    perm = [0, 2 * n + 1] + [v for i in range(n) for v in (1 + i, 1 + n + i)]
    x = x.permute(perm)
    return x.reshape(B, channels, *[g * p for g, p in zip(grid_size, patch_size)])
