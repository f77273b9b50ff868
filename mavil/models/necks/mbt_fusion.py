"""Multimodal Bottleneck Transformer fusion (MBT; App. B.2).

Per layer l:  a^{l+1} || b_a = g^l(a^l || b^l),  v^{l+1} || b_v = g^l(v^l || b^l),
b^{l+1} = (b_a + b_v) / 2.  Modalities exchange information only through the bottlenecks.
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mavil.registry import MODELS
from ..layers import AttentionBackend, call_block, init_mae_weights, make_blocks


@MODELS.register_module()
class MBTFusion(BaseModule):
    """Bottleneck fusion. audio [B, La, D], video [B, Lv, D] -> same shapes.

    Args:
        num_bottlenecks: learnable bottleneck tokens b^0 (4 in the paper).
        share_weights: one layer g^l for both modalities, as the paper's equations write it;
            False gives each modality its own layer (the original MBT).
        with_cp: activation checkpointing per block (less memory, ~1 more forward).
    """

    def __init__(self,
                 *,
                 embed_dim: int = 768,
                 depth: int = 2,
                 num_heads: int = 12,
                 num_bottlenecks: int = 4,
                 share_weights: bool = True,
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 attn_backend: AttentionBackend = 'sdpa',
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        if depth < 1 or num_bottlenecks < 1:
            raise ValueError(f'MBTFusion needs depth >= 1 and num_bottlenecks >= 1, got '
                             f'{depth} and {num_bottlenecks}')
        self.embed_dim = embed_dim
        self.share_weights = share_weights
        kwargs = dict(drop_path_rate=drop_path_rate, mlp_ratio=mlp_ratio,
                      attn_backend=attn_backend)
        self.audio_blocks = make_blocks(depth, embed_dim, num_heads, **kwargs)
        self.video_blocks = (self.audio_blocks if share_weights else make_blocks(
            depth, embed_dim, num_heads, **kwargs))
        self.bottlenecks = nn.Parameter(torch.zeros(1, num_bottlenecks, embed_dim))
        self.audio_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.video_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        init_mae_weights(self)
        nn.init.normal_(self.bottlenecks, std=0.02)

    def forward(self, audio: torch.Tensor,
                video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        La, Lv = audio.shape[1], video.shape[1]
        b = self.bottlenecks.expand(audio.shape[0], -1, -1)  # [B, nb, D]
        for audio_block, video_block in zip(self.audio_blocks, self.video_blocks):
            a_out = call_block(audio_block, torch.cat([audio, b], dim=1),
                               with_cp=self.with_cp)  # [B, La + nb, D]
            v_out = call_block(video_block, torch.cat([video, b], dim=1),
                               with_cp=self.with_cp)  # [B, Lv + nb, D]
            audio, video = a_out[:, :La], v_out[:, :Lv]
            b = (a_out[:, La:] + v_out[:, Lv:]) / 2
        return self.audio_norm(audio), self.video_norm(video)
