"""Patches of 2D spectrograms ([B, C, T, F]) and 3D clips ([B, C, T, H, W]): the token grid,
the patch embedding, and (un)patchify for pixel targets, all in one row-major patch order."""
from math import prod
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def grid_shape(input_size: Sequence[int], patch_size: Sequence[int],
               what: str = 'input') -> tuple[int, ...]:
    """Token grid for ``input_size`` cut into non-overlapping ``patch_size`` patches."""
    if len(input_size) != len(patch_size):
        raise ValueError(f'{what} size {tuple(input_size)} and patch size {tuple(patch_size)} '
                         'have different numbers of dimensions')
    for size, patch in zip(input_size, patch_size):
        if patch <= 0 or size % patch != 0:
            raise ValueError(f'patch size {tuple(patch_size)} does not divide the {what} size '
                             f'{tuple(input_size)} (each input dimension must be a multiple '
                             'of the patch dimension)')
    return tuple(size // patch for size, patch in zip(input_size, patch_size))


class PatchEmbed(nn.Module):
    """Conv with kernel = stride = patch (computed as a linear map of each patch), flattened
    to tokens in row-major grid order.

    [B, C, *input_size] -> [B, N, D] with N = prod(input_size / patch_size).
    """

    def __init__(self, input_size: Sequence[int], patch_size: Sequence[int], in_channels: int,
                 embed_dim: int) -> None:
        super().__init__()
        self.input_size = tuple(input_size)
        self.patch_size = tuple(patch_size)
        self.grid_size = grid_shape(input_size, patch_size)
        self.in_channels = in_channels
        conv = {2: nn.Conv2d, 3: nn.Conv3d}.get(len(patch_size))
        if conv is None:
            raise ValueError(f'patch size must have 2 or 3 dimensions, got {tuple(patch_size)}')
        self.proj = conv(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)

    @property
    def num_patches(self) -> int:
        return prod(self.grid_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != (self.in_channels, *self.input_size):
            raise ValueError(f'expected input [B, {self.in_channels}, '
                             f'{", ".join(map(str, self.input_size))}], got {list(x.shape)}')
        # A conv with kernel = stride = patch is one matmul of the flattened patches with the
        # flattened kernel; as a single linear over patchify's (patch dims..., channel) order it
        # runs 1.1-1.5x faster than the conv kernels on CPU, forward + weight gradient
        # (benchmarks/small_step.py, docs/performance.md). The parameters stay the conv's.
        w = self.proj.weight  # [D, C, *patch]
        weight = w.permute(0, *range(2, w.dim()), 1).reshape(w.shape[0], -1)  # [D, P * C]
        return F.linear(patchify(x, self.patch_size), weight, self.proj.bias)  # [B, N, D]


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
