"""Attention backends agree ('math' reference, 'sdpa', 'xformers' on CUDA only)."""
import importlib.util
import math

import pytest
import torch

from mavil.models.layers import Attention, Block, check_attention_backend

HAS_CUDA = torch.cuda.is_available()
HAS_XFORMERS = importlib.util.find_spec('xformers') is not None


def twin(module_cls, backend_kwarg, reference, backend, **kwargs):
    other = module_cls(**kwargs, **{backend_kwarg: backend})
    other.load_state_dict(reference.state_dict())
    return other.eval()


def test_math_attention_matches_hand_loop():
    """softmax(q k^T / sqrt(d)) v per head, written with explicit loops."""
    dim, heads, L = 8, 2, 4
    attn = Attention(dim, heads, backend='math').eval()
    x = torch.randn(1, L, dim, dtype=torch.float64)
    attn.double()
    with torch.no_grad():
        q, k, v = attn.qkv(x)[0].split(dim, dim=-1)  # [L, dim] each
        d = dim // heads
        out = torch.zeros(L, dim, dtype=torch.float64)
        for h in range(heads):
            cols = slice(h * d, (h + 1) * d)
            for i in range(L):
                scores = [float(q[i, cols] @ k[j, cols]) / math.sqrt(d) for j in range(L)]
                top = max(scores)
                weights = [math.exp(s - top) for s in scores]
                total = sum(weights)
                for j in range(L):
                    out[i, cols] += weights[j] / total * v[j, cols]
        expected = attn.proj(out)
        torch.testing.assert_close(attn(x)[0], expected, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize('shape', [(2, 9, 32), (1, 50, 64), (3, 1, 32)])
def test_sdpa_matches_math_attention(shape):
    B, L, D = shape
    ref = Attention(D, 4, backend='math').eval()
    sdpa = twin(Attention, 'backend', ref, 'sdpa', dim=D, num_heads=4)
    x = torch.randn(B, L, D)
    with torch.no_grad():
        torch.testing.assert_close(sdpa(x), ref(x), atol=1e-5, rtol=1e-5)


def test_sdpa_matches_math_through_a_block_with_gradients():
    ref = Block(48, 6, attn_backend='math')
    sdpa = twin(Block, 'attn_backend', ref, 'sdpa', dim=48, num_heads=6)
    ref.eval()
    x = torch.randn(2, 17, 48, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    y_ref, y = ref(x), sdpa(x2)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)
    y_ref.square().sum().backward()
    y.square().sum().backward()
    torch.testing.assert_close(x2.grad, x.grad, atol=1e-4, rtol=1e-4)
    for (name, p_ref), (_, p) in zip(ref.named_parameters(), sdpa.named_parameters()):
        torch.testing.assert_close(p.grad, p_ref.grad, atol=1e-4, rtol=1e-4, msg=name)


@pytest.mark.skipif(not (HAS_CUDA and HAS_XFORMERS), reason='xformers needs CUDA + xformers')
def test_xformers_matches_sdpa_on_cuda():
    ref = Attention(64, 4, backend='sdpa').cuda().eval()
    xf = twin(Attention, 'backend', ref, 'xformers', dim=64, num_heads=4).cuda()
    x = torch.randn(2, 33, 64, device='cuda')
    with torch.no_grad():
        torch.testing.assert_close(xf(x), ref(x), atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(HAS_CUDA, reason='checks the CPU-only error')
def test_xformers_without_cuda_raises_clear_error():
    with pytest.raises(RuntimeError, match='CUDA'):
        check_attention_backend('xformers')
    with pytest.raises(RuntimeError, match="'sdpa'"):
        Attention(32, 4, backend='xformers')
    with pytest.raises(RuntimeError, match='CUDA'):
        Block(32, 4, attn_backend='xformers')


def test_unknown_backend_and_bad_heads_raise():
    with pytest.raises(ValueError, match='attn_backend must be one of'):
        Attention(32, 4, backend='flash')
    with pytest.raises(ValueError, match='divisible'):
        Attention(30, 4)
