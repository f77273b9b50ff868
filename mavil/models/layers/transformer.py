"""The pre-norm Transformer block (ViT / MAE style) and its multi-head self-attention, whose
backend is chosen once at construction; activation checkpointing of blocks.

Attention backends (numerically equivalent within float tolerance, see tests):
    'sdpa'     torch.nn.functional.scaled_dot_product_attention (default; flash/mem-efficient on GPU)
    'xformers' xformers.ops.memory_efficient_attention (CUDA only)
    'math'     explicit softmax(QK^T / sqrt(d)) V, the reference
"""
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from timm.layers import DropPath, Mlp
from torch import nn
from torch.utils.checkpoint import checkpoint

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


class Block(nn.Module):
    """x + DropPath(Attn(LN(x))), then x + DropPath(MLP(LN(x))). Shapes: [B, L, D] -> same."""

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 *,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 drop_path: float = 0.0,
                 attn_backend: AttentionBackend = 'sdpa',
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias, backend=attn_backend)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, hidden_features=int(dim * mlp_ratio), act_layer=nn.GELU)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def make_blocks(depth: int, dim: int, num_heads: int, *, drop_path_rate: float = 0.0,
                **block_kwargs) -> nn.ModuleList:
    """``depth`` blocks with drop-path rising linearly from 0 to ``drop_path_rate``."""
    rates = torch.linspace(0, drop_path_rate, depth).tolist() if depth > 0 else []
    return nn.ModuleList(
        Block(dim, num_heads, drop_path=rate, **block_kwargs) for rate in rates)


def call_block(block: Callable[..., torch.Tensor], *inputs: torch.Tensor,
               with_cp: bool = False) -> torch.Tensor:
    """``block(*inputs)``, with activation checkpointing when ``with_cp`` and autograd records.

    Checkpointing keeps only the block's inputs for backward and recomputes its activations
    then (non-reentrant ``torch.utils.checkpoint``, RNG state restored, so drop-path draws
    the same paths): less memory for about one more forward of the block.
    """
    if with_cp and torch.is_grad_enabled():
        return checkpoint(block, *inputs, use_reentrant=False)
    return block(*inputs)


def run_blocks(blocks: nn.ModuleList, x: torch.Tensor, with_cp: bool = False) -> torch.Tensor:
    """Apply ``blocks`` in turn to ``x`` [B, L, D], each checkpointed with ``with_cp``."""
    for block in blocks:
        x = call_block(block, x, with_cp=with_cp)
    return x
