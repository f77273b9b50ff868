"""Masked ViT encoders for audio spectrograms and video clips (MAE-style, App. B.2).

Pipeline: patch-embed -> + fixed sin-cos positions -> keep unmasked tokens -> prepend [CLS]
-> Transformer blocks -> LayerNorm.  ``embed`` and ``encode`` are separate so that two masked
views of one input (intra-modal contrast) share a single patch embedding.
"""
from typing import Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mavil.registry import MODELS
from ..layers import (AttentionBackend, MASKING_TYPES, MaskInfo, PatchEmbed, check_mask_ratio,
                      gather_tokens, init_mae_weights, make_blocks, run_blocks, sample_mask,
                      sincos_pos_embed)

# name -> (embed_dim, depth, num_heads)
VIT_ARCHS: dict[str, dict[str, int]] = {
    'tiny': dict(embed_dim=192, depth=12, num_heads=3),
    'small': dict(embed_dim=384, depth=12, num_heads=6),
    'base': dict(embed_dim=768, depth=12, num_heads=12),
    'large': dict(embed_dim=1024, depth=24, num_heads=16),
}


def resolve_arch(arch: Union[str, dict]) -> dict[str, int]:
    """A preset name or an explicit dict(embed_dim=, depth=, num_heads=)."""
    if isinstance(arch, str):
        if arch not in VIT_ARCHS:
            raise ValueError(f'unknown ViT arch {arch!r}; known: {sorted(VIT_ARCHS)}')
        return dict(VIT_ARCHS[arch])
    missing = {'embed_dim', 'depth', 'num_heads'} - set(arch)
    if missing:
        raise ValueError(f'arch dict {arch} misses {sorted(missing)}')
    return dict(arch)


class MaskedViTEncoder(BaseModule):
    """ViT over a patch grid with per-sample random or structured masking.

    Args:
        arch: 'tiny' | 'small' | 'base' | 'large' or dict(embed_dim, depth, num_heads).
        input_size: input size without channels, e.g. (1024, 128) or (8, 224, 224).
        patch_size: patch size per input dimension, e.g. (16, 16) or (2, 16, 16).
        in_channels: input channels (1 for fbank, 3 for RGB).
        mask_ratio: fraction of tokens removed in training views, in (0, 1).
        mask_type: one of ``allowed_mask_types``.
        with_cp: activation checkpointing per block (less memory, ~1 more forward).
        pos_layout: the fixed position table: 'mae' (default, see
            :mod:`mavil.models.layers.pos_embed`), or the table imported weights were trained
            with: 'audiomae' (AudioMAE's 2D table), 'concat_t' (video, MAViL's released
            checkpoints). Set by ``tools/convert_weights.py``.
    """
    allowed_mask_types: tuple[str, ...] = ('random', )

    def __init__(self,
                 *,
                 arch: Union[str, dict] = 'base',
                 input_size: Sequence[int],
                 patch_size: Sequence[int],
                 in_channels: int,
                 mask_ratio: float = 0.8,
                 mask_type: str = 'random',
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 attn_backend: AttentionBackend = 'sdpa',
                 with_cp: bool = False,
                 pos_layout: str = 'mae',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        cfg = resolve_arch(arch)
        self.with_cp = with_cp
        self.embed_dim = cfg['embed_dim']
        self.patch_embed = PatchEmbed(input_size, patch_size, in_channels, self.embed_dim)
        self.grid_size = self.patch_embed.grid_size
        self.pos_layout = pos_layout  # recorded in exported weights, checked at load
        self.num_patches = self.patch_embed.num_patches
        if mask_type not in self.allowed_mask_types:
            raise ValueError(f'{type(self).__name__}: mask_type {mask_type!r} not supported; '
                             f'choose from {self.allowed_mask_types}')
        assert mask_type in MASKING_TYPES
        self.mask_type = mask_type
        self.mask_ratio = check_mask_ratio(mask_ratio, self.num_patches,
                                           f'{type(self).__name__}.mask_ratio')
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        self.register_buffer(
            'pos_embed', sincos_pos_embed(self.grid_size, self.embed_dim, layout=pos_layout)[None],
            persistent=False)
        self.blocks = make_blocks(cfg['depth'], self.embed_dim, cfg['num_heads'],
                                  drop_path_rate=drop_path_rate, mlp_ratio=mlp_ratio,
                                  attn_backend=attn_backend)
        self.norm = nn.LayerNorm(self.embed_dim, eps=1e-6)
        self._init_weights()

    def _init_weights(self) -> None:
        init_mae_weights(self)
        w = self.patch_embed.proj.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, *input_size] -> [B, N, D] patch tokens with positions (no [CLS])."""
        return self.patch_embed(x) + self.pos_embed[:, 1:]

    def sample_mask(self, batch_size: int, device: torch.device) -> MaskInfo:
        return sample_mask(batch_size, self.grid_size, self.mask_ratio, mode=self.mask_type,
                           device=device)

    def encode(self, tokens: torch.Tensor, mask: Optional[MaskInfo] = None) -> torch.Tensor:
        """[B, N, D] embedded tokens -> [B, 1 + K, D] ([CLS] first); K = N without a mask."""
        if mask is not None:
            tokens = gather_tokens(tokens, mask.ids_keep)
        return self._encode_kept(tokens)

    def encode_views(self, tokens: torch.Tensor,
                     masks: Sequence[MaskInfo]) -> list[torch.Tensor]:
        """Several masked views of the same tokens in ONE batched pass through the blocks.

        [B, N, D] tokens and V masks keeping K tokens each -> V tensors [B, 1 + K, D], equal
        to ``encode(tokens, mask)`` per mask (up to float summation order), but with V times
        taller matrices and a V-th of the op launches (the intra-modal view, Sec. 3.2).
        """
        kept = torch.cat([gather_tokens(tokens, m.ids_keep) for m in masks])  # [V*B, K, D]
        return list(self._encode_kept(kept).chunk(len(masks)))

    def _encode_kept(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, K, D] kept tokens -> [CLS] + blocks + norm -> [B, 1 + K, D]."""
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(tokens.shape[0], -1, -1)
        x = torch.cat([cls, tokens], dim=1)
        x = run_blocks(self.blocks, x, self.with_cp)
        return self.norm(x)

    def forward(self, x: torch.Tensor,
                masked: bool = True) -> tuple[torch.Tensor, Optional[MaskInfo]]:
        """Encode one (optionally masked) view: returns ([B, 1 + K, D], mask or None)."""
        tokens = self.embed(x)
        mask = self.sample_mask(x.shape[0], x.device) if masked else None
        return self.encode(tokens, mask), mask


@MODELS.register_module()
class AudioViT(MaskedViTEncoder):
    """Audio encoder on log-mel fbank [B, 1, T, F]; 16x16 patches (1024x128 -> 64x8 = 512)."""
    allowed_mask_types = ('random', 'time_freq')

    def __init__(self,
                 *,
                 input_size: Sequence[int] = (1024, 128),
                 patch_size: Sequence[int] = (16, 16),
                 in_channels: int = 1,
                 **kwargs) -> None:
        super().__init__(input_size=input_size, patch_size=patch_size, in_channels=in_channels,
                         **kwargs)


@MODELS.register_module()
class VideoViT(MaskedViTEncoder):
    """Video encoder on clips [B, 3, T, H, W]; 2x16x16 tubelets (8x224x224 -> 4x14x14 = 784)."""
    allowed_mask_types = ('random', 'space_time')

    def __init__(self,
                 *,
                 input_size: Sequence[int] = (8, 224, 224),
                 patch_size: Sequence[int] = (2, 16, 16),
                 in_channels: int = 3,
                 **kwargs) -> None:
        super().__init__(input_size=input_size, patch_size=patch_size, in_channels=in_channels,
                         **kwargs)
