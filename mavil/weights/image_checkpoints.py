"""Image ViT checkpoints (ImageNet MAE / timm) as initialisations of a video encoder (Sec. 4.2,
App. B.3): recognising them, checking their position table, inflating the 2D patch embedding
to the 3D tubelet, where to download them, and the check that they exist before training.

Our encoders use fixed sin-cos positions in MAE's layout (:mod:`mavil.pos_embed`), so an image
checkpoint's ``pos_embed`` is not loaded but CHECKED: MAE pre-training stores exactly that fixed
2D table, and a table that differs (a learned one, e.g. timm's supervised ViTs) fails the load
unless ``pos_embed='ignore'`` drops it knowingly (see :func:`check_fixed_pos_embed`).
"""
import math
import os.path as osp
from typing import Mapping, Sequence

import torch
from torch import nn

from mavil.download import cached_file
from mavil.pos_embed import sincos_pos_embed

# keys of an image ViT that have no counterpart in our encoders (positions are fixed sin-cos
# buffers here; MAE's pre-training pos_embed is the same fixed 2D table, timm's is learned).
IMAGE_VIT_ONLY = ('pos_embed', )
# largest |difference| between a checkpoint's table and ours still called "the same table"
# (MAE stores its float64 table as float32: the real difference is ~1e-7)
POS_EMBED_ATOL = 1e-4
POS_EMBED_POLICIES = ('check', 'ignore')


def inflate_patch_embed(weight: torch.Tensor, temporal_size: int) -> torch.Tensor:
    """2D patch kernel [D, C, h, w] -> 3D tubelet kernel [D, C, t, h, w].

    The kernel is repeated over time and divided by ``t``: on a clip of ``t`` identical frames
    the tubelet embedding equals the 2D embedding of one frame (bias unchanged).
    """
    if weight.dim() != 4:
        raise ValueError(f'expected a 2D patch kernel [D, C, h, w], got {list(weight.shape)}')
    if temporal_size < 1:
        raise ValueError(f'temporal_size must be >= 1, got {temporal_size}')
    return weight.unsqueeze(2).repeat(1, 1, temporal_size, 1, 1) / temporal_size


def is_image_vit_state(state: Mapping[str, torch.Tensor]) -> bool:
    """A top-level 2D patch embedding and ViT blocks (ImageNet MAE / timm layout)."""
    w = state.get('patch_embed.proj.weight')
    return (isinstance(w, torch.Tensor) and w.dim() == 4
            and any(k.startswith('blocks.') for k in state))


def fixed_pos_embed_difference(table: torch.Tensor, grid_size: Sequence[int]) -> float:
    """Max |checkpoint table - our fixed table| for a ``grid_size`` token grid.

    ``table`` is [1, L, D] or [L, D] with L = prod(grid) or prod(grid) + 1 (a [CLS] row first,
    zeros in MAE). Returns ``inf`` when the shapes cannot be compared."""
    table = table.detach().float().reshape(-1, table.shape[-1])
    num = math.prod(grid_size)
    if table.shape[0] not in (num, num + 1) or table.shape[-1] % 4:
        return math.inf
    ours = sincos_pos_embed(grid_size, table.shape[-1], cls_token=table.shape[0] == num + 1)
    return (table - ours).abs().max().item()


def check_fixed_pos_embed(table: torch.Tensor, grid_size: Sequence[int], *, source: str,
                          policy: str = 'check') -> str:
    """Check that a checkpoint's position table is our fixed sin-cos table (MAE's layout).

    Args:
        table: the checkpoint's ``pos_embed``.
        grid_size: the token grid it was trained on ([rows, cols]; an image's is square).
        source: names the checkpoint in messages.
        policy: 'check' raises when the tables differ; 'ignore' only reports the difference
            (for learned tables, e.g. a timm supervised ViT, whose positions are then replaced
            by the fixed table).

    Returns:
        a note for the load report.
    """
    if policy not in POS_EMBED_POLICIES:
        raise ValueError(f'pos_embed policy must be one of {POS_EMBED_POLICIES}, got {policy!r}')
    diff = fixed_pos_embed_difference(table, grid_size)
    if diff <= POS_EMBED_ATOL:
        return (f'checkpoint pos_embed {list(table.shape)} equals our fixed sin-cos table on '
                f'its {tuple(grid_size)} grid (max |diff| {diff:.1e}): not loaded, recomputed')
    if policy == 'ignore':
        return (f'checkpoint pos_embed {list(table.shape)} differs from our fixed sin-cos table '
                f'(max |diff| {diff:.3g}); dropped as asked (pos_embed=\'ignore\'): the encoder '
                'uses the fixed table')
    raise RuntimeError(
        f'{source}: its pos_embed {list(table.shape)} is not the fixed sin-cos table in MAE\'s '
        f'layout on a {tuple(grid_size)} grid (max |diff| {diff:.3g}); our encoders only use '
        'that table, so these weights would see other position codes than they were trained '
        'with. A learned table (timm / DeiT supervised ViT)? Pass pos_embed=\'ignore\' to '
        'drop it knowingly.')


def image_vit_to_video_encoder(state: Mapping[str, torch.Tensor], encoder: nn.Module,
                               prefix: str = '', *, pos_embed: str = 'check',
                               source: str = 'image ViT') -> tuple[dict, list[str], list[str]]:
    """Map an image ViT state dict onto a video encoder's keys (``prefix`` + name).

    Returns (converted state, ignored image keys, notes). Keys the encoder does not have
    (``pos_embed``, MAE's decoder and ``mask_token``, timm's ``head`` / ``fc_norm``) are ignored;
    ``pos_embed`` is first checked against our fixed table on the image's square grid
    (``pos_embed`` is the policy of :func:`check_fixed_pos_embed`).
    """
    own = encoder.state_dict()
    converted, ignored, notes = {}, [], []
    if 'pos_embed' in state:
        table = state['pos_embed']  # [1, (1 +) S * S, D]: an image's grid is square
        length = table.shape[-2]
        side = next((s for s in (math.isqrt(length - 1), math.isqrt(length))
                     if s > 0 and s * s in (length - 1, length)), 0)
        notes.append(check_fixed_pos_embed(table, (side, side), source=source,
                                           policy=pos_embed))
    else:
        notes.append('checkpoint has no pos_embed: the fixed sin-cos table is used')
    temporal = encoder.patch_embed.patch_size[0]
    for key, value in state.items():
        if key in IMAGE_VIT_ONLY or key not in own:
            ignored.append(key)
            continue
        if key == 'patch_embed.proj.weight' and value.dim() == 4 and own[key].dim() == 5:
            notes.append(f'inflated {key} {list(value.shape)} -> '
                         f'{list(own[key].shape)} (repeated over t={temporal}, divided by t)')
            value = inflate_patch_embed(value, temporal)
        converted[prefix + key] = value
    return converted, ignored, notes


# Image checkpoints of the video encoder's initialisations (Sec. 4.2, Table 5b), by file name:
# where to download them and what they are.
IMAGE_CHECKPOINT_SOURCES = {
    'mae_pretrain_vit_base.pth':
    ('https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth',
     'the official MAE release (github.com/facebookresearch/mae): ImageNet-1K self-supervised '
     'ViT-B, "IN-SSL", the paper\'s default'),
    'mae_pretrain_vit_large.pth':
    ('https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_large.pth',
     'the official MAE release: ImageNet-1K self-supervised ViT-L (IN-SSL, Table 5d / 14)'),
    'deit_base_patch16_224-b5f2ef4d.pth':
    ('https://dl.fbaipublicfiles.com/deit/deit_base_patch16_224-b5f2ef4d.pth',
     'DeiT-B (github.com/facebookresearch/deit, timm deit_base_patch16_224): ImageNet-1K '
     'supervised ViT-B, "IN-SL"'),
}
FROM_SCRATCH_CONFIG = 'configs/mavil/ablations/init_scratch.py'


def missing_image_checkpoint_message(path: str) -> str:
    """Why an image checkpoint is needed, where to get it, and how to do without it."""
    url, what = IMAGE_CHECKPOINT_SOURCES.get(
        osp.basename(path), (None, 'an image ViT checkpoint (MAE / timm layout)'))
    fetch = f'Download it from {url} into {osp.dirname(path) or "."}/' if url else 'Provide it'
    return (f'video encoder initialisation: {path} not found (expected at {osp.abspath(path)}). '
            f'It is {what}, inflated to the video tubelet (Sec. 4.2, App. B.3). {fetch}, point '
            'to it with --cfg-options model.video_encoder.init_cfg.checkpoint=PATH, or '
            f'pre-train the video encoder from scratch with {FROM_SCRATCH_CONFIG} (Table 5b '
            '"Rand.").')


def check_init_checkpoints(model: nn.Module) -> None:
    """Fail early (before data loading) when an ``ImageViTInflateInit`` file is missing
    (a URL is downloaded here, and checked against its ``sha256``).

    Walks ``model.modules()`` (a stage-2 teacher is not a submodule and loads its own
    checkpoint) and raises FileNotFoundError with :func:`missing_image_checkpoint_message`."""
    for module in model.modules():
        init_cfg = getattr(module, 'init_cfg', None)
        for cfg in init_cfg if isinstance(init_cfg, list) else [init_cfg]:
            if isinstance(cfg, Mapping) and cfg.get('type') == 'ImageViTInflateInit':
                path = cached_file(cfg.get('checkpoint') or '', sha256=cfg.get('sha256'))
                if not path or not osp.isfile(path):
                    raise FileNotFoundError(missing_image_checkpoint_message(str(path)))
