"""Fixed sine-cosine position tables in MAE's layout (MAE, AudioMAE and MAE-ST conventions).

* 1D: ``[sin(p * w_k), cos(p * w_k)]`` with ``w_k = 10000^(-2k / dim)``, k < dim / 2.
* 2D grid ``[rows, cols]`` (audio: time x frequency; image: height x width), exactly MAE's
  ``get_2d_sincos_pos_embed``: the FIRST half of the channels is the 1D code of the column
  (width / frequency) index, the SECOND half the 1D code of the row (height / time) index.
  Imported MAE / AudioMAE weights therefore see the codes they were trained with.
* 3D video grid ``[T, H, W]``: MAE's 2D table over (H, W), identical for every temporal slot,
  plus a full-width 1D temporal code added per slot. Adding a spatial and a temporal table is
  how MAE-ST combines space and time (``sep_pos_embed``: ``pos_embed_spatial`` repeated over
  time + ``pos_embed_temporal`` repeated over space); MAE-ST learns both, MAViL uses fixed
  sin-cos codes (Sec. 3.1), so both parts are sin-cos here. The temporal code is shifted so
  that slot 0 adds nothing (``code(t) - code(0)``, i.e. ``[sin(t w), cos(t w) - 1]``): the
  differences between slots are those of the plain sin-cos code (the shift is one constant
  vector added to every token, which a patch-embedding bias could absorb), and the first
  slot's table is MAE's 2D table exactly. An encoder inflated from ImageNet MAE (IN-SSL) thus
  starts as the image model: on a clip of one tubelet of identical frames it computes what
  the image MAE computes on the frame.

Tables are computed in float64 and returned as float32 ``[prod(grid) (+1), dim]``; the
optional [CLS] row (first) is zeros, as in MAE.
"""
from typing import Sequence

import torch


def sincos_1d(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """[L] positions -> [L, dim] float64: [sin(p * w_k), cos(p * w_k)], w_k = 10000^(-2k/dim)."""
    if dim % 2 != 0:
        raise ValueError(f'sin-cos embedding dim must be even, got {dim}')
    omega = 1.0 / 10000**(torch.arange(dim // 2, dtype=torch.float64) / (dim / 2))
    angles = positions.to(torch.float64)[:, None] * omega[None, :]  # [L, dim/2]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def sincos_2d(rows: int, cols: int, dim: int) -> torch.Tensor:
    """MAE's 2D table for a row-major [rows, cols] grid -> [rows * cols, dim] float64.

    Channels ``[:dim/2]`` code the column index, ``[dim/2:]`` the row index."""
    if dim % 4 != 0:
        raise ValueError(f'a 2D sin-cos table needs dim divisible by 4, got {dim}')
    row, col = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing='ij')
    return torch.cat([sincos_1d(col.reshape(-1), dim // 2),
                      sincos_1d(row.reshape(-1), dim // 2)], dim=1)


def sincos_video(frames: int, rows: int, cols: int, dim: int) -> torch.Tensor:
    """[T, H, W] grid -> [T * H * W, dim] float64: MAE's spatial 2D table + a temporal code
    that is zero at slot 0 (see the module docstring)."""
    spatial = sincos_2d(rows, cols, dim)  # [H * W, dim]
    times = torch.arange(frames)
    temporal = sincos_1d(times, dim) - sincos_1d(times[:1], dim)  # [T, dim], row 0 = 0
    return (temporal[:, None, :] + spatial[None, :, :]).reshape(-1, dim)


def sincos_video_concat(frames: int, rows: int, cols: int, dim: int) -> torch.Tensor:
    """[T, H, W] grid -> [T * H * W, dim] float64 with the channels SPLIT instead of added:
    ``[:dim/4]`` the 1D code of the temporal slot, ``[dim/4:]`` MAE's 2D table of (row, col)
    on 3 dim / 4 channels. The layout of the video tables in MAViL's released fine-tuned
    checkpoints (av-superb's ``get_3d_sincos_pos_embed``); imported with
    ``pos_layout='concat_t'``."""
    if dim % 16 != 0:
        raise ValueError(f'the concat_t video table needs dim divisible by 16, got {dim}')
    temporal = sincos_1d(torch.arange(frames), dim // 4)  # [T, dim/4]
    spatial = sincos_2d(rows, cols, dim // 4 * 3)  # [H * W, 3 dim/4]
    return torch.cat([temporal[:, None, :].expand(-1, rows * cols, -1),
                      spatial[None].expand(frames, -1, -1)], dim=-1).reshape(-1, dim)


# 'mae': the tables above. For imported weights trained with other tables:
# 'audiomae': 2D table of AudioMAE's code: built for the TRANSPOSED grid [cols, rows] (its
#     ``patch_hw`` is (freq, time) while its tokens run time-major) and added in token order;
# 'concat_t': 3D table of :func:`sincos_video_concat`.
POS_LAYOUTS = ('mae', 'audiomae', 'concat_t')


def sincos_pos_embed(grid_size: Sequence[int], dim: int, cls_token: bool = True,
                     layout: str = 'mae') -> torch.Tensor:
    """The fixed table of a row-major token grid: 1D, 2D ``[rows, cols]`` (MAE layout) or
    3D ``[T, H, W]`` (spatial 2D + temporal, MAE-ST style); ``layout`` selects the tables of
    imported weights (:data:`POS_LAYOUTS`). Returns [prod(grid) (+1), dim] float32; the
    [CLS] row, when asked for, is zeros."""
    grid = tuple(int(n) for n in grid_size)
    if layout not in POS_LAYOUTS:
        raise ValueError(f'pos layout must be one of {POS_LAYOUTS}, got {layout!r}')
    if layout != 'mae' and len(grid) != {'audiomae': 2, 'concat_t': 3}[layout]:
        raise ValueError(f'pos layout {layout!r} is for '
                         f'{"2D" if layout == "audiomae" else "3D"} grids, got {grid}')
    if len(grid) == 1:
        table = sincos_1d(torch.arange(grid[0]), dim)
    elif len(grid) == 2:
        table = sincos_2d(*grid, dim) if layout == 'mae' else sincos_2d(grid[1], grid[0], dim)
    elif len(grid) == 3:
        table = (sincos_video if layout == 'mae' else sincos_video_concat)(*grid, dim)
    else:
        raise ValueError(f'sin-cos tables exist for 1D, 2D and 3D grids, got {grid}')
    if cls_token:
        table = torch.cat([torch.zeros(1, dim, dtype=table.dtype), table], dim=0)
    return table.float()
