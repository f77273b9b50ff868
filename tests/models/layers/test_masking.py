"""Token masking (App. B.2, C.1): keep counts, inverse permutation, mask convention,
decoder unshuffle and the structure of time-frequency / space-time masking."""
import math
from itertools import product
from math import prod

import pytest
import torch

from mavil.models.heads import MaskedDecoder
from mavil.models.layers import gather_tokens, sample_mask

AUDIO_GRID, VIDEO_GRID = (64, 8), (4, 14, 14)
CASES = [(AUDIO_GRID, 'random'), (AUDIO_GRID, 'time_freq'), (VIDEO_GRID, 'random'),
         (VIDEO_GRID, 'space_time')]


@pytest.mark.parametrize('grid,mode', CASES)
@pytest.mark.parametrize('ratio,expected_keep', [(0.8, {512: 102, 784: 156}),
                                                 (0.7, {512: 153, 784: 235}),
                                                 (0.9, {512: 51, 784: 78})])
def test_keep_count_restore_and_mask(grid, mode, ratio, expected_keep):
    B, N = 3, prod(grid)
    info = sample_mask(B, grid, ratio, mode=mode)
    keep = expected_keep[N]
    assert info.ids_keep.shape == (B, keep) and info.num_kept == keep
    assert info.ids_restore.shape == (B, N) and info.mask.shape == (B, N)
    for b in range(B):
        kept = info.ids_keep[b].tolist()
        assert len(set(kept)) == keep  # distinct tokens
        # ids_restore is a permutation, and kept token ids_keep[k] sits at shuffled slot k
        assert sorted(info.ids_restore[b].tolist()) == list(range(N))
        for k, token in enumerate(kept):
            assert info.ids_restore[b, token].item() == k
        # mask: 1 exactly at the non-kept positions
        expected = [0.0 if n in set(kept) else 1.0 for n in range(N)]
        assert info.mask[b].tolist() == expected
        assert info.mask[b].sum().item() == N - keep


def test_decoder_style_unshuffle_restores_order():
    """MAE unshuffle done by hand: kept tokens land at their original indices."""
    B, grid = 2, (8, 4)
    N = prod(grid)
    info = sample_mask(B, grid, 0.75, mode='random')
    tokens = torch.arange(N, dtype=torch.float32).view(1, N, 1).expand(B, N, 1)
    visible = gather_tokens(tokens, info.ids_keep)  # [B, K, 1]
    for b in range(B):
        assert visible[b, :, 0].tolist() == [float(i) for i in info.ids_keep[b]]
    fill = torch.full((B, N - info.num_kept, 1), -1.0)
    seq = torch.cat([visible, fill], dim=1)
    restored = torch.empty(B, N)
    for b, n in product(range(B), range(N)):  # out[b, n] = seq[b, ids_restore[b, n]]
        restored[b, n] = seq[b, info.ids_restore[b, n], 0]
    for b, n in product(range(B), range(N)):
        if info.mask[b, n] == 0:
            assert restored[b, n].item() == n
        else:
            assert restored[b, n].item() == -1.0


def test_masked_decoder_unshuffles_like_the_hand_loop():
    """Inspect MaskedDecoder's restored sequence (before its norm) with no blocks."""
    B, grid, E = 2, (8, 4), 8  # 2D sin-cos needs E % 4 == 0 (MAE)
    N = prod(grid)
    decoder = MaskedDecoder(in_dim=E, embed_dim=E, depth=0, num_heads=1, grid_size=grid,
                            out_dim=3)
    with torch.no_grad():
        decoder.embed.weight.copy_(torch.eye(E))
        decoder.embed.bias.zero_()
    info = sample_mask(B, grid, 0.75)
    # encoder output: [CLS] then one token per kept patch, valued by its original index
    visible = info.ids_keep.float().unsqueeze(-1).expand(-1, -1, E)
    x = torch.cat([torch.full((B, 1, E), -7.0), visible], dim=1)
    captured = {}
    decoder.norm.register_forward_pre_hook(lambda m, a: captured.setdefault('x', a[0]))
    with torch.no_grad():
        out = decoder(x, info)
    assert out.shape == (B, N, 3)
    # the norm reads the N patch tokens ([CLS] is dropped before it): [B, N, E]
    seq = captured['x'] - decoder.pos_embed[:, 1:]  # without positions
    mask_token = decoder.mask_token.detach().view(E)
    for b, n in product(range(B), range(N)):
        token = seq[b, n]
        if info.mask[b, n] == 0:
            assert torch.allclose(token, torch.full((E, ), float(n)), atol=1e-5)
        else:
            assert torch.allclose(token, mask_token, atol=1e-6)


def _structured_fraction(mask: torch.Tensor, grid, groups) -> float:
    """Fraction of masked tokens lying in a fully masked slot of any axis group.

    A slot of axis group ``axes`` fixes those axes' coordinates and spans all the others,
    e.g. group (0,) on an audio (T, F) grid is a whole time row.
    """
    m = mask.view(*grid).bool()
    covered = torch.zeros_like(m)
    for axes in groups:
        others = tuple(a for a in range(len(grid)) if a not in axes)
        full = m.all(dim=others, keepdim=True) if others else m
        covered |= full.expand_as(m)
    return (covered & m).sum().item() / m.sum().item()


@pytest.mark.parametrize('grid,mode,groups', [
    (AUDIO_GRID, 'time_freq', [(0, ), (1, )]),  # whole time rows / frequency columns
    (VIDEO_GRID, 'space_time', [(0, ), (1, 2)]),  # whole frames / spatial tubes
])
def test_structured_masking_masks_whole_slots(grid, mode, groups):
    gen = torch.Generator().manual_seed(0)
    B = 16
    structured = sample_mask(B, grid, 0.8, mode=mode, generator=gen)
    random = sample_mask(B, grid, 0.8, mode='random', generator=gen)
    s_frac = [_structured_fraction(structured.mask[b], grid, groups) for b in range(B)]
    r_frac = [_structured_fraction(random.mask[b], grid, groups) for b in range(B)]
    assert min(s_frac) > 0.9, s_frac
    assert sum(r_frac) / B < 0.55, r_frac


@pytest.mark.parametrize('ratio', [0.7, 0.8, 0.9])
@pytest.mark.parametrize('grid,mode', [(AUDIO_GRID, 'time_freq'), (VIDEO_GRID, 'space_time')])
def test_structured_slot_counts_follow_two_to_one(grid, mode, ratio):
    """Time slots at rate s, frequency/space slots at 2s, union 1 - (1 - s)(1 - 2s) = ratio
    (App. C.1), i.e. s = (3 - sqrt(9 - 8 ratio)) / 4; every chosen slot is masked whole."""
    s = (3 - math.sqrt(9 - 8 * ratio)) / 4
    time_slots = grid[0]
    other_slots = prod(grid[1:])
    min_time, min_other = int(s * time_slots), int(2 * s * other_slots)
    info = sample_mask(8, grid, ratio, mode=mode, generator=torch.Generator().manual_seed(2))
    m = info.mask.view(8, *grid).bool()
    other_dims = tuple(range(2, 2 + len(grid) - 1))
    full_time = m.all(dim=other_dims).sum(dim=1)  # [B] whole time rows / frames
    full_other = m.all(dim=1).flatten(1).sum(dim=1)  # [B] whole freq columns / tubes
    assert torch.all(full_time >= min_time), (full_time, min_time)
    assert torch.all(full_other >= min_other), (full_other, min_other)


def test_generator_makes_masks_reproducible():
    a, b = (sample_mask(2, AUDIO_GRID, 0.8, mode='time_freq',
                        generator=torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a.ids_keep, b.ids_keep) and torch.equal(a.mask, b.mask)


@pytest.mark.parametrize('ratio', [0.0, 1.0, -0.1, 1.5])
def test_ratio_outside_open_interval_raises(ratio):
    with pytest.raises(ValueError, match=r'\(0, 1\)'):
        sample_mask(1, AUDIO_GRID, ratio)


def test_ratio_keeping_nothing_raises():
    with pytest.raises(ValueError, match='keeps no token'):
        sample_mask(1, (2, 2), 0.9)


def test_unknown_or_unfit_mode_raises():
    with pytest.raises(ValueError, match='unknown masking type'):
        sample_mask(1, AUDIO_GRID, 0.8, mode='checkerboard')
    with pytest.raises(ValueError, match='space_time'):
        sample_mask(1, AUDIO_GRID, 0.8, mode='space_time')  # needs a 3-D grid


def test_decoder_predicts_as_with_cls_through_norm_and_head():
    """Dropping [CLS] before the per-token norm and head changes no prediction."""
    torch.manual_seed(0)
    B, grid = 3, (4, 4)
    decoder = MaskedDecoder(in_dim=16, embed_dim=8, depth=1, num_heads=2, grid_size=grid,
                            out_dim=5)
    info = sample_mask(B, grid, 0.75)
    x = torch.randn(B, 1 + info.num_kept, 16)
    captured = {}
    decoder.blocks[-1].register_forward_hook(lambda m, a, out: captured.setdefault('x', out))
    out = decoder(x, info)
    ref = decoder.head(decoder.norm(captured['x']))[:, 1:]  # [B, N, 5]
    torch.testing.assert_close(out, ref, rtol=1e-6, atol=1e-6)
