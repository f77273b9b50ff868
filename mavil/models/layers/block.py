"""Pre-norm Transformer block (ViT / MAE style)."""
import torch
from timm.layers import DropPath, Mlp
from torch import nn

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
