"""Fixed sin-cos position tables against a hand formula, element by element.

Per axis (MAE's 1-D convention): channels [sin(p * w_0..w_{d/2-1}), cos(p * w_0..w_{d/2-1})]
with w_k = 1 / 10000^(2k / d_axis). Axis blocks are concatenated in grid-axis order (axis 0,
i.e. time / rows, first); each axis gets an equal even share, the remainder going to axis 0.
"""
import math
from itertools import product

import pytest
import torch

from mavil.models.backbones import AudioViT, VideoViT
from mavil.models.heads import MaskedDecoder
from mavil.models.layers import sincos_pos_embed


def hand_row(coords: tuple[int, ...], axis_dims: list[int]) -> list[float]:
    row = []
    for p, d in zip(coords, axis_dims):
        omegas = [1.0 / 10000**(2 * k / d) for k in range(d // 2)]
        row += [math.sin(p * w) for w in omegas] + [math.cos(p * w) for w in omegas]
    return row


def check_table(table: torch.Tensor, grid, axis_dims, cls_token=True):
    offset = 1 if cls_token else 0
    assert table.shape == (math.prod(grid) + offset, sum(axis_dims))
    assert table.dtype == torch.float32
    if cls_token:
        assert torch.all(table[0] == 0)
    for n, coords in enumerate(product(*[range(g) for g in grid])):  # row-major order
        expected = torch.tensor(hand_row(coords, axis_dims), dtype=torch.float32)
        torch.testing.assert_close(table[offset + n], expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize('grid,dim,axis_dims', [
    ((3, 5), 16, [8, 8]),
    ((4, 2), 12, [6, 6]),  # odd per-axis half (3 frequencies)
    ((5, 5), 32, [16, 16]),
])
def test_2d_table_matches_hand_formula(grid, dim, axis_dims):
    check_table(sincos_pos_embed(grid, dim), grid, axis_dims)
    check_table(sincos_pos_embed(grid, dim, cls_token=False), grid, axis_dims, cls_token=False)


@pytest.mark.parametrize('grid,dim,axis_dims', [
    ((2, 3, 4), 24, [8, 8, 8]),
    ((2, 3, 3), 28, [12, 8, 8]),  # 28 // 3 = 9 -> even share 8; remainder 4 to axis 0
    ((4, 2, 2), 64, [24, 20, 20]),
])
def test_3d_table_matches_hand_formula(grid, dim, axis_dims):
    check_table(sincos_pos_embed(grid, dim), grid, axis_dims)


def test_vit_base_sizes_spot_checks():
    """A few elements of the full-size audio (64 x 8, 768) and video (4 x 14 x 14) tables."""
    audio = sincos_pos_embed((64, 8), 768)
    for (t, f) in [(0, 0), (63, 7), (17, 3)]:
        expected = torch.tensor(hand_row((t, f), [384, 384]), dtype=torch.float32)
        torch.testing.assert_close(audio[1 + t * 8 + f], expected, atol=1e-6, rtol=0)
    video = sincos_pos_embed((4, 14, 14), 768)
    for (t, h, w) in [(0, 0, 0), (3, 13, 13), (2, 5, 9)]:
        expected = torch.tensor(hand_row((t, h, w), [256, 256, 256]), dtype=torch.float32)
        torch.testing.assert_close(video[1 + (t * 14 + h) * 14 + w], expected, atol=1e-6, rtol=0)


def test_odd_dim_raises():
    with pytest.raises(ValueError):
        sincos_pos_embed((4, 4), 7)  # an odd width cannot be split into sin/cos pairs


def test_modules_use_the_fixed_tables():
    audio = AudioViT(arch=dict(embed_dim=32, depth=1, num_heads=2), input_size=(32, 16),
                     patch_size=(8, 8))
    video = VideoViT(arch=dict(embed_dim=48, depth=1, num_heads=2), input_size=(4, 16, 16),
                     patch_size=(2, 8, 8))
    decoder = MaskedDecoder(in_dim=48, embed_dim=24, depth=1, num_heads=2, grid_size=(2, 2, 2),
                            out_dim=4)
    check_table(audio.pos_embed[0], (4, 2), [16, 16])
    check_table(video.pos_embed[0], (2, 2, 2), [16, 16, 16])
    check_table(decoder.pos_embed[0], (2, 2, 2), [8, 8, 8])
    for module in (audio, video, decoder):
        assert not any(name.endswith('pos_embed') for name, _ in module.named_parameters())
        assert 'pos_embed' not in module.state_dict()  # fixed, recomputed, never loaded
