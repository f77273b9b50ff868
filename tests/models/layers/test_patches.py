"""patchify / unpatchify round trip and agreement with PatchEmbed's token order."""
from itertools import product
from math import prod

import pytest
import torch

from mavil.models.layers import PatchEmbed, patchify, unpatchify

CASES = [((12, 8), (4, 2), 1), ((8, 6), (2, 3), 3), ((4, 8, 6), (2, 4, 3), 3),
         ((6, 4, 4), (3, 2, 2), 2)]


@pytest.mark.parametrize('size,patch,channels', CASES)
def test_round_trip(size, patch, channels):
    x = torch.randn(2, channels, *size)
    patches = patchify(x, patch)
    grid = tuple(s // p for s, p in zip(size, patch))
    assert patches.shape == (2, prod(grid), prod(patch) * channels)
    assert torch.equal(unpatchify(patches, patch, grid, channels), x)


@pytest.mark.parametrize('size,patch,channels', CASES)
def test_values_follow_documented_order(size, patch, channels):
    """Token n = row-major grid cell; within a token, (patch offsets..., channel)."""
    x = torch.randn(1, channels, *size)
    patches = patchify(x, patch)
    grid = [s // p for s, p in zip(size, patch)]
    for n, cell in enumerate(product(*[range(g) for g in grid])):
        for e, (*offsets, c) in enumerate(product(*[range(p) for p in patch], range(channels))):
            index = tuple(g * p + o for g, p, o in zip(cell, patch, offsets))
            assert patches[0, n, e] == x[(0, c) + index]


@pytest.mark.parametrize('size,patch,channels', CASES)
def test_matches_patch_embed_token_order(size, patch, channels):
    """A PatchEmbed whose output channel e selects patch element e reproduces patchify."""
    embed = PatchEmbed(size, patch, channels, embed_dim=prod(patch) * channels)
    with torch.no_grad():
        embed.proj.weight.zero_()
        embed.proj.bias.zero_()
        for e, (*offsets, c) in enumerate(product(*[range(p) for p in patch], range(channels))):
            embed.proj.weight[(e, c) + tuple(offsets)] = 1.0
        x = torch.randn(2, channels, *size)
        torch.testing.assert_close(embed(x), patchify(x, patch), atol=1e-6, rtol=0)


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match='does not divide'):
        patchify(torch.randn(1, 1, 10, 8), (4, 4))
    with pytest.raises(ValueError, match='does not divide'):
        PatchEmbed((10, 8), (4, 4), 1, 8)
    embed = PatchEmbed((8, 8), (4, 4), 1, 8)
    with pytest.raises(ValueError, match='expected input'):
        embed(torch.randn(1, 3, 8, 8))


@pytest.mark.parametrize('size,patch,channels', CASES + [((8, 64, 64), (2, 16, 16), 3)])
def test_patch_embed_equals_its_conv(size, patch, channels):
    """The linear-map forward is the strided conv: output and parameter gradients."""
    torch.manual_seed(0)
    embed = PatchEmbed(size, patch, channels, embed_dim=16)
    x = torch.randn(3, channels, *size)
    conv = embed.proj
    ref = conv._conv_forward(x, conv.weight, conv.bias).flatten(2).transpose(1, 2)
    grad_out = torch.randn_like(ref)
    ref_grads = torch.autograd.grad(ref, (conv.weight, conv.bias), grad_out)
    out = embed(x)
    grads = torch.autograd.grad(out, (conv.weight, conv.bias), grad_out)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-4)
