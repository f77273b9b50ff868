"""Gated cross-attention fusion: each modality attends to the other through a tanh gate.

Per layer l, with gates g initialised to 0 (so the neck starts as the identity, i.e. as the
uni-modal MAE baselines of Table 1, and learns how much to fuse):

    a' = a + tanh(g_attn^a) * CrossAttn(LN(a), LN(v));   a'' = a' + tanh(g_mlp^a) * MLP(LN(a'))
    v' = v + tanh(g_attn^v) * CrossAttn(LN(v), LN(a));   v'' = v' + tanh(g_mlp^v) * MLP(LN(v'))

Both modalities read the other's previous-layer tokens, so the update is symmetric.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from timm.layers import Mlp
from torch import nn

from mavil.models.layers import init_mae_weights
from mavil.models.layers import check_attention_backend, math_attention
from mavil.registry import MODELS


class CrossAttention(nn.Module):
    """Multi-head attention of queries ``x`` [B, Lq, D] over ``context`` [B, Lk, D] -> [B, Lq, D].

    Args:
        backend: 'sdpa' (default) or 'math' (the reference in ``mavil.models.layers``).
    """

    def __init__(self, dim: int, num_heads: int, *, qkv_bias: bool = True,
                 backend: str = 'sdpa') -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'embed dim {dim} is not divisible by num_heads {num_heads}')
        if check_attention_backend(backend) not in ('sdpa', 'math'):
            raise ValueError(f"CrossAttention supports attn_backend 'sdpa' or 'math', "
                             f'got {backend!r}')
        self.num_heads = num_heads
        self.backend = backend
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        B, Lq, D = x.shape
        Lk, h = context.shape[1], self.num_heads
        q = self.q(x).reshape(B, Lq, h, D // h).transpose(1, 2)  # [B, h, Lq, d]
        k, v = self.kv(context).reshape(B, Lk, 2, h, D // h).permute(2, 0, 3, 1, 4).unbind(0)
        if self.backend == 'sdpa':
            out = F.scaled_dot_product_attention(q, k, v)  # [B, h, Lq, d]
        else:
            out = math_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(B, Lq, D))


class GatedCrossBlock(nn.Module):
    """Gated cross-attention then gated MLP, pre-norm. x [B, Lx, D], context [B, Lc, D]."""

    def __init__(self, dim: int, num_heads: int, *, mlp_ratio: float = 4.0,
                 gate_init: float = 0.0, attn_backend: str = 'sdpa') -> None:
        super().__init__()
        self.norm_x = nn.LayerNorm(dim, eps=1e-6)
        self.norm_context = nn.LayerNorm(dim, eps=1e-6)
        self.attn = CrossAttention(dim, num_heads, backend=attn_backend)
        self.norm_mlp = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden_features=int(dim * mlp_ratio), act_layer=nn.GELU)
        self.gate_attn = nn.Parameter(torch.full((1, ), gate_init))
        self.gate_mlp = nn.Parameter(torch.full((1, ), gate_init))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = x + self.gate_attn.tanh() * self.attn(self.norm_x(x), self.norm_context(context))
        return x + self.gate_mlp.tanh() * self.mlp(self.norm_mlp(x))


@MODELS.register_module()
class GatedCrossFusion(BaseModule):
    """Fusion neck g_av. audio [B, La, D], video [B, Lv, D] -> same shapes (token order kept).

    Args:
        embed_dim: token width D; ``MAViL`` sets it to the encoders' width.
        depth: number of layers; each has one block per modality.
        num_heads: attention heads.
        gate_init: initial gate value; 0 makes the neck the identity at initialisation.
    """

    def __init__(self,
                 *,
                 embed_dim: int = 768,
                 depth: int = 2,
                 num_heads: int = 12,
                 mlp_ratio: float = 4.0,
                 gate_init: float = 0.0,
                 attn_backend: str = 'sdpa',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth < 1:
            raise ValueError(f'GatedCrossFusion depth must be >= 1, got {depth}')
        self.embed_dim = embed_dim
        kwargs = dict(mlp_ratio=mlp_ratio, gate_init=gate_init, attn_backend=attn_backend)
        self.audio_blocks = nn.ModuleList(
            GatedCrossBlock(embed_dim, num_heads, **kwargs) for _ in range(depth))
        self.video_blocks = nn.ModuleList(
            GatedCrossBlock(embed_dim, num_heads, **kwargs) for _ in range(depth))
        init_mae_weights(self)  # linears and LayerNorms; the gates keep gate_init

    def forward(self, audio: torch.Tensor,
                video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for audio_block, video_block in zip(self.audio_blocks, self.video_blocks):
            audio, video = audio_block(audio, video), video_block(video, audio)
        return audio, video
