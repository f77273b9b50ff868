"""Vanilla fusion: a Transformer over the concatenated audio and video tokens (Sec. 3.1)."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mavil.registry import MODELS
from ..layers import AttentionBackend, init_mae_weights, make_blocks, run_blocks


@MODELS.register_module()
class JointFusion(BaseModule):
    """(a_mm || v_mm) = Transformer^L(a_um || v_um).

    Shapes: audio [B, La, D], video [B, Lv, D] -> same shapes. ``with_cp`` checkpoints each
    block's activations (less memory, ~1 more forward).
    """

    def __init__(self,
                 *,
                 embed_dim: int = 768,
                 depth: int = 2,
                 num_heads: int = 12,
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 attn_backend: AttentionBackend = 'sdpa',
                 with_cp: bool = False,
                 final_norm: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        if depth < 1:
            raise ValueError(f'JointFusion depth must be >= 1, got {depth} (use fusion=None '
                             'for the uni-modal baselines)')
        self.embed_dim = embed_dim
        self.blocks = make_blocks(depth, embed_dim, num_heads, drop_path_rate=drop_path_rate,
                                  mlp_ratio=mlp_ratio, attn_backend=attn_backend)
        # final_norm=False: no LayerNorm after the blocks (MAViL's released A+V fine-tuned
        # models pool the fusion blocks' outputs directly, then apply fc_norm in the head)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6) if final_norm else nn.Identity()
        init_mae_weights(self)

    def forward(self, audio: torch.Tensor,
                video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([audio, video], dim=1)  # [B, La + Lv, D]
        x = run_blocks(self.blocks, x, self.with_cp)
        x = self.norm(x)
        return x[:, :audio.shape[1]], x[:, audio.shape[1]:]
