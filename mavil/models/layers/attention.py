"""Multi-head self-attention with a backend chosen once at construction.

Backends (numerically equivalent within float tolerance, see tests):
    'sdpa'     torch.nn.functional.scaled_dot_product_attention (default; flash/mem-efficient on GPU)
    'xformers' xformers.ops.memory_efficient_attention (CUDA only)
    'math'     explicit softmax(QK^T / sqrt(d)) V, the reference
"""
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

AttentionBackend = Literal['sdpa', 'xformers', 'math']
ATTENTION_BACKENDS = ('sdpa', 'xformers', 'math')


def check_attention_backend(backend: str) -> str:
    """Validate ``backend``; 'xformers' requires CUDA and an importable xformers."""
    if backend not in ATTENTION_BACKENDS:
        raise ValueError(f'attn_backend must be one of {ATTENTION_BACKENDS}, got {backend!r}')
    if backend == 'xformers':
        if not torch.cuda.is_available():
            raise RuntimeError("attn_backend='xformers' needs a CUDA device (xformers has no "
                               "CPU kernels); use 'sdpa' on this machine")
        try:
            import xformers.ops  # noqa: F401
        except Exception as err:  # ImportError, or kernels built for another torch
            raise RuntimeError("attn_backend='xformers' requested but xformers cannot be "
                               f'imported ({err}); install the extra: pip install -e .[xformers]'
                               ) from err
    return backend


def math_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Reference attention. q, k, v: [B, heads, L, d] -> [B, heads, L, d]."""
    scores = (q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)  # [B, h, L, L]
    return scores.softmax(dim=-1) @ v


class Attention(nn.Module):
    """Self-attention over ``[B, L, D]`` tokens."""

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 *,
                 qkv_bias: bool = True,
                 backend: AttentionBackend = 'sdpa') -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'embed dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.backend = check_attention_backend(backend)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        qkv = self.qkv(x).reshape(B, L, 3, self.num_heads, D // self.num_heads)
        if self.backend == 'xformers':
            import xformers.ops as xops
            q, k, v = qkv.unbind(2)  # [B, L, h, d] each: xformers' layout
            out = xops.memory_efficient_attention(q, k, v).reshape(B, L, D)
        else:
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # [B, h, L, d] each
            if self.backend == 'sdpa':
                out = F.scaled_dot_product_attention(q, k, v)
            else:
                out = math_attention(q, k, v)
            out = out.transpose(1, 2).reshape(B, L, D)
        return self.proj(out)
