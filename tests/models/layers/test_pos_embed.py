"""Fixed sin-cos tables against references written here from MAE's / MAE-ST's formulas.

MAE (``util/pos_embed.py``): 1D code [sin(p * w_k), cos(p * w_k)], w_k = 1 / 10000^(2k / d);
2D table = [1D(column index, D/2), 1D(row index, D/2)] because MAE builds its grid with
``meshgrid(grid_w, grid_h)`` ("w goes first"). Grids are RECTANGULAR (64 x 8 like AudioMAE's
audio grid) so that swapping the axes cannot pass. MAE-ST (``sep_pos_embed``): spatial table
repeated over time + temporal table repeated over space.
"""
import math

import numpy as np
import pytest
import torch

from mavil.models.backbones import AudioViT, VideoViT
from mavil.models.heads import MaskedDecoder
from mavil.models.layers import sincos_pos_embed
from tests.models.helpers import mae_1d, mae_2d


def mae_st_video(dim: int, frames: int, rows: int, cols: int) -> np.ndarray:
    """MAE-ST's composition with sin-cos parts: spatial repeated over time + temporal repeated
    over space; the temporal code is shifted so that slot 0 adds nothing."""
    spatial = np.tile(mae_2d(dim, rows, cols), (frames, 1))  # [T * H * W, D]
    temporal = mae_1d(dim, np.arange(frames)) - mae_1d(dim, np.zeros(1))
    return spatial + np.repeat(temporal, rows * cols, axis=0)


def hand_row_2d(row: int, col: int, dim: int) -> list[float]:
    """One row of the 2D table from the scalar formula (independent of numpy's meshgrid)."""
    omegas = [1.0 / 10000**(2 * k / (dim // 2)) for k in range(dim // 4)]
    return ([math.sin(col * w) for w in omegas] + [math.cos(col * w) for w in omegas]
            + [math.sin(row * w) for w in omegas] + [math.cos(row * w) for w in omegas])


def assert_table(ours: torch.Tensor, reference: np.ndarray, atol: float = 1e-6) -> None:
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, torch.from_numpy(reference).float(), atol=atol, rtol=0)


@pytest.mark.parametrize('rows,cols,dim', [(64, 8, 768), (8, 64, 32), (3, 5, 12)])
def test_2d_table_is_maes(rows, cols, dim):
    assert_table(sincos_pos_embed((rows, cols), dim), mae_2d(dim, rows, cols, cls_token=True))
    assert_table(sincos_pos_embed((rows, cols), dim, cls_token=False), mae_2d(dim, rows, cols))


def test_rectangular_grid_detects_an_axis_swap():
    """The 64 x 8 check can fail: MAE's table with the two channel halves swapped is far off,
    and a few rows match the scalar formula (column code first)."""
    ours = sincos_pos_embed((64, 8), 64, cls_token=False)
    reference = mae_2d(64, 64, 8)
    swapped = np.concatenate([reference[:, 32:], reference[:, :32]], axis=1)
    assert np.abs(ours.numpy() - swapped).max() > 1.0
    for row, col in [(0, 7), (63, 0), (17, 3)]:
        torch.testing.assert_close(ours[row * 8 + col],
                                   torch.tensor(hand_row_2d(row, col, 64)).float(),
                                   atol=1e-6, rtol=0)


@pytest.mark.parametrize('grid,dim', [((4, 14, 14), 768), ((3, 2, 5), 16)])
def test_video_table_is_spatial_mae_plus_temporal(grid, dim):
    table = sincos_pos_embed(grid, dim)
    assert torch.all(table[0] == 0)
    assert_table(table[1:], mae_st_video(dim, *grid))
    # slot 0 is MAE's 2D table exactly: the first frame sees the image model's codes
    assert_table(table[1:1 + grid[1] * grid[2]], mae_2d(dim, grid[1], grid[2]))


def test_bad_widths_raise():
    with pytest.raises(ValueError, match='even'):
        sincos_pos_embed((7, ), 7)
    with pytest.raises(ValueError, match='divisible by 4'):
        sincos_pos_embed((4, 4), 6)  # 2D needs two even halves


def test_modules_use_the_fixed_tables():
    audio = AudioViT(arch=dict(embed_dim=32, depth=1, num_heads=2), input_size=(48, 16),
                     patch_size=(8, 8))
    video = VideoViT(arch=dict(embed_dim=48, depth=1, num_heads=2), input_size=(4, 24, 16),
                     patch_size=(2, 8, 8))
    decoder = MaskedDecoder(in_dim=48, embed_dim=24, depth=1, num_heads=2, grid_size=(2, 3, 2),
                            out_dim=4)
    assert_table(audio.pos_embed[0], mae_2d(32, 6, 2, cls_token=True))  # time x frequency
    assert_table(video.pos_embed[0, 1:], mae_st_video(48, 2, 3, 2))
    assert_table(decoder.pos_embed[0, 1:], mae_st_video(24, 2, 3, 2))
    for module in (audio, video, decoder):
        assert not any(name.endswith('pos_embed') for name, _ in module.named_parameters())
        assert 'pos_embed' not in module.state_dict()  # fixed, recomputed, never loaded
