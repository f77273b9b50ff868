"""MAE decoder: project, pad with [MASK] tokens, unshuffle, add fixed positions, 8x512 blocks,
then a linear head to the target width (raw patch size in stage 1, teacher width in stage 2)."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from mavil.registry import MODELS
from ..layers import (AttentionBackend, MaskInfo, gather_tokens, init_mae_weights, make_blocks,
                      run_blocks, sincos_pos_embed)


@MODELS.register_module()
class MaskedDecoder(BaseModule):
    """[B, 1 + K, in_dim] visible tokens ([CLS] first) + mask -> [B, N, out_dim] predictions.

    ``grid_size`` and ``out_dim`` are normally filled in by the algorithm from the encoder's
    token grid and the target generator, so configs only describe the architecture.
    ``with_cp`` checkpoints each block's activations (less memory, ~1 more forward).
    """

    def __init__(self,
                 *,
                 in_dim: int = 768,
                 embed_dim: int = 512,
                 depth: int = 8,
                 num_heads: int = 16,
                 grid_size: Sequence[int],
                 out_dim: int,
                 mlp_ratio: float = 4.0,
                 attn_backend: AttentionBackend = 'sdpa',
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        self.in_dim = in_dim
        self.grid_size = tuple(grid_size)
        self.embed = nn.Linear(in_dim, embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.register_buffer(
            'pos_embed', sincos_pos_embed(self.grid_size, embed_dim)[None], persistent=False)
        self.blocks = make_blocks(depth, embed_dim, num_heads, mlp_ratio=mlp_ratio,
                                  attn_backend=attn_backend)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, out_dim)
        init_mae_weights(self)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, x: torch.Tensor, mask: MaskInfo) -> torch.Tensor:
        x = self.embed(x)  # [B, 1 + K, E]
        B, N = mask.ids_restore.shape
        cls, visible = x[:, :1], x[:, 1:]
        fill = self.mask_token.expand(B, N - visible.shape[1], -1)
        tokens = gather_tokens(torch.cat([visible, fill], dim=1), mask.ids_restore)  # [B, N, E]
        x = torch.cat([cls, tokens], dim=1) + self.pos_embed
        x = run_blocks(self.blocks, x, self.with_cp)
        # [CLS] dropped before the per-token norm and head: the same predictions without
        # a head output (and its zero-filled gradient) for a token no loss reads
        return self.head(self.norm(x[:, 1:]))  # [B, N, out_dim]
