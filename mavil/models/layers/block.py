"""Pre-norm Transformer block (ViT / MAE style) and activation checkpointing of blocks."""
from typing import Callable

import torch
from timm.layers import DropPath, Mlp
from torch import nn
from torch.utils.checkpoint import checkpoint

from .attention import Attention, AttentionBackend


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
