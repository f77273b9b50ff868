"""Patch embedding for 2D spectrograms ([B, C, T, F]) and 3D clips ([B, C, T, H, W])."""
from typing import Sequence

import torch
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
    """Conv with kernel = stride = patch, flattened to tokens in row-major grid order.

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
        return int(torch.tensor(self.grid_size).prod())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != (self.in_channels, *self.input_size):
            raise ValueError(f'expected input [B, {self.in_channels}, '
                             f'{", ".join(map(str, self.input_size))}], got {list(x.shape)}')
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, N, D]
