"""Fixed sine-cosine positional embeddings over N-dimensional token grids."""
from typing import Sequence

import torch


def sincos_1d(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """[L] positions -> [L, dim]: [sin(p * w_k), cos(p * w_k)], w_k = 10000^(-2k/dim)."""
    if dim % 2 != 0:
        raise ValueError(f'sin-cos embedding dim must be even, got {dim}')
    omega = 1.0 / 10000**(torch.arange(dim // 2, dtype=torch.float64) / (dim / 2))
    angles = positions.to(torch.float64)[:, None] * omega[None, :]  # [L, dim/2]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def axis_dims(dim: int, num_axes: int) -> list[int]:
    """Split ``dim`` channels over axes: equal even shares, the remainder to axis 0."""
    share = (dim // num_axes) // 2 * 2
    dims = [share] * num_axes
    dims[0] += dim - share * num_axes
    if any(d <= 0 or d % 2 for d in dims):
        raise ValueError(f'cannot split embed dim {dim} into {num_axes} even sin-cos parts')
    return dims


def sincos_pos_embed(grid_size: Sequence[int], dim: int, cls_token: bool = True) -> torch.Tensor:
    """Embedding for a row-major grid: each axis' coordinate gets its own channel block.

    For a 2D grid this is MAE's 2D sin-cos table (half the channels per axis); 3D video grids
    (time, height, width) get three blocks. Returns [prod(grid) (+1), dim] float32; the
    [CLS] row, when asked for, is zeros.
    """
    coords = torch.meshgrid(*[torch.arange(n) for n in grid_size], indexing='ij')
    parts = [sincos_1d(c.reshape(-1), d) for c, d in zip(coords, axis_dims(dim, len(grid_size)))]
    table = torch.cat(parts, dim=1)
    if cls_token:
        table = torch.cat([torch.zeros(1, dim, dtype=table.dtype), table], dim=0)
    return table.float()
