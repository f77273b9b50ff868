"""Initialising fine-tuning models from pre-trained checkpoints (App. B.3).

Three checkpoint layouts are understood, all loaded weights-only:

* a MAViL pre-training checkpoint (stage 1 or stage 2): ``audio_encoder.*`` /
  ``video_encoder.*`` are kept; decoders, the pre-training fusion neck, targets and any other
  pre-training-only keys are reported as unexpected and ignored;
* a checkpoint of the fine-tuning model itself (resume, ``tools/test.py``): an exact match;
* an image ViT (ImageNet MAE ``{'model': ...}`` or a timm ViT state dict: top-level
  ``patch_embed.proj.weight`` [D, C, p, p], ``blocks.*``, ``norm.*``): loaded into the video
  encoder, with the 2D patch embedding inflated to the 3D tubelet by :func:`inflate_patch_embed`.
  Our encoders use fixed sin-cos positions in MAE's layout (``layers/pos_embed.py``), so the
  checkpoint's ``pos_embed`` is not loaded but CHECKED: MAE pre-training stores exactly that
  fixed 2D table, and a table that differs (a learned one, e.g. timm's supervised ViTs) fails
  the load unless ``pos_embed='ignore'`` drops it knowingly (see :func:`check_fixed_pos_embed`).

Every load produces a :class:`LoadReport` (matched / missing / unexpected keys). A tensor whose
shape differs from the model's is never skipped silently: the load fails with the full list of
mismatched shapes (a checkpoint of another architecture), and so does a checkpoint that shares
no key with the model.
"""
import math
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

from mavil.checkpoint_io import load_checkpoint_file, model_state_dict
from mavil.download import cached_file
from .layers.pos_embed import sincos_pos_embed

_MAX_LISTED = 20
# keys of an image ViT that have no counterpart in our encoders (positions are fixed sin-cos
# buffers here; MAE's pre-training pos_embed is the same fixed 2D table, timm's is learned).
IMAGE_VIT_ONLY = ('pos_embed', )
# largest |difference| between a checkpoint's table and ours still called "the same table"
# (MAE stores its float64 table as float32: the real difference is ~1e-7)
POS_EMBED_ATOL = 1e-4
POS_EMBED_POLICIES = ('check', 'ignore')


def _listing(items: Sequence[str]) -> str:
    shown = ', '.join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f', ... ({more} more)' if more > 0 else '')


def summarize_keys(keys: Sequence[str]) -> str:
    """'audio_decoder.* (20), head.fc.weight': keys grouped by top-level module."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(key.split('.', 1)[0], []).append(key)
    return ', '.join(ks[0] if len(ks) == 1 else f'{head}.* ({len(ks)})'
                     for head, ks in groups.items())


@dataclass
class LoadReport:
    """What a checkpoint load did: ``matched`` keys were copied, ``missing`` model keys keep
    their initialisation, ``unexpected`` checkpoint keys were ignored; ``notes`` lists
    conversions (e.g. inflation)."""
    source: str
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f'checkpoint ({self.source}): {len(self.matched)} tensors matched, '
                 f'{len(self.missing)} missing, {len(self.unexpected)} unexpected']
        if self.missing:
            lines.append('  missing (keep their initialisation): '
                         f'{summarize_keys(self.missing)}')
        if self.unexpected:
            lines.append(f'  unexpected (ignored): {summarize_keys(self.unexpected)}')
        lines += [f'  {note}' for note in self.notes]
        return '\n'.join(lines)


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


def unwrap_state(state: Mapping) -> dict:
    """The tensors of a checkpoint: ``state_dict`` / ``model`` entries unwrapped, DDP's
    ``module.`` prefix stripped."""
    state = model_state_dict(dict(state))
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}


def match_state_dict(state: Mapping[str, torch.Tensor], model_state: Mapping[str, torch.Tensor],
                     *, source: str, what: str) -> LoadReport:
    """Compare a (converted) checkpoint with a model's state; raise on shape mismatches or when
    nothing matches, else return the report. ``what`` names the model in messages."""
    report = LoadReport(source=source)
    mismatched = []
    for key, value in state.items():
        if key not in model_state:
            report.unexpected.append(key)
        elif tuple(value.shape) != tuple(model_state[key].shape):
            mismatched.append(f'{key}: checkpoint {list(value.shape)} vs model '
                              f'{list(model_state[key].shape)}')
        else:
            report.matched.append(key)
    report.missing = [k for k in model_state if k not in state]
    if mismatched:
        raise RuntimeError(
            f'checkpoint ({source}) does not fit {what}: {len(mismatched)} tensor shapes differ '
            f'(a checkpoint of another architecture? compare arch / input_size / patch_size / '
            f'num_classes with the config it was trained with):\n  '
            + '\n  '.join(mismatched[:_MAX_LISTED])
            + (f'\n  ... ({len(mismatched) - _MAX_LISTED} more)'
               if len(mismatched) > _MAX_LISTED else ''))
    if not report.matched:
        raise RuntimeError(
            f'checkpoint ({source}) shares no tensor with {what}. Checkpoint keys: '
            f'{_listing(sorted(state))}; model keys: {_listing(list(model_state))}')
    return report


def adapt_checkpoint_state(state: Mapping[str, torch.Tensor], model: nn.Module, *,
                           video_encoder_name: Optional[str] = 'video_encoder',
                           ignore_keys: Sequence[str] = (),
                           pos_embed: str = 'check') -> tuple[dict, LoadReport]:
    """Convert ``state`` to ``model``'s keys and check it (see the module docstring).

    Args:
        state: checkpoint tensors (already unwrapped, see :func:`unwrap_state`).
        model: the receiving model.
        video_encoder_name: attribute of ``model`` that receives an image ViT (None: image
            checkpoints are refused).
        ignore_keys: regular expressions; matching checkpoint keys are dropped first (e.g.
            ``'^head\\.'`` to transfer a fine-tuned model to a dataset with other classes).
        pos_embed: what to do with an image ViT's position table that is not our fixed one:
            'check' (fail) or 'ignore' (see :func:`check_fixed_pos_embed`).

    Returns:
        (the tensors to load, keyed like ``model.state_dict()``, and the report).
    """
    state = {k: v for k, v in state.items()
             if not any(re.search(p, k) for p in ignore_keys)}
    model_state = model.state_dict()
    what = type(model).__name__
    if is_image_vit_state(state):
        encoder = getattr(model, video_encoder_name, None) if video_encoder_name else None
        if encoder is None:
            raise RuntimeError(f'an image ViT checkpoint initialises the video encoder, but '
                               f'this {what} has none')
        converted, ignored, notes = image_vit_to_video_encoder(
            state, encoder, f'{video_encoder_name}.', pos_embed=pos_embed)
        report = match_state_dict(converted, model_state, source='image ViT -> '
                                  f'{video_encoder_name}', what=what)
        report.unexpected += ignored
        report.notes += notes
        return converted, report
    source = ('MAViL pre-training' if any(k.split('.', 1)[0] in ('audio_decoder',
                                                                  'video_decoder')
                                           for k in state) else 'model checkpoint')
    report = match_state_dict(state, model_state, source=source, what=what)
    return {k: state[k] for k in report.matched}, report


def load_pretrained(model: nn.Module, path: str, **kwargs) -> LoadReport:
    """Load a checkpoint file (weights-only) into ``model``; see :func:`adapt_checkpoint_state`.

    A model that adapts checkpoints in its own load hook (``adapts_checkpoints = True``, e.g.
    ``AVClassifier``) receives the file's tensors as they are, so there is one code path."""
    state = unwrap_state(load_checkpoint_file(path, map_location='cpu'))
    if getattr(model, 'adapts_checkpoints', False):
        model.load_state_dict(state, strict=False)
        report = model.last_load_report
    else:
        converted, report = adapt_checkpoint_state(state, model, **kwargs)
        model.load_state_dict(converted, strict=False)
        print_log(str(report), logger='current')
    report.source = f'{path}: {report.source}'
    return report


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


@WEIGHT_INITIALIZERS.register_module(name='ImageViTInflateInit')
class ImageViTInflateInit:
    """``init_cfg`` of a ``VideoViT``: load an ImageNet MAE / timm ViT checkpoint, inflating
    the patch embedding (App. B.3, "IN-SSL" initialisation for pre-training)::

        video_encoder=dict(type='VideoViT', ...,
                           init_cfg=dict(type='ImageViTInflateInit',
                                         checkpoint='checkpoints/mae_pretrain_vit_base.pth'))

    Args:
        checkpoint: a local file, or an ``http(s)://`` URL downloaded on first use into
            torch.hub's cache (:func:`mavil.download.cached_file`).
        sha256: the file's SHA-256; a download that differs is discarded.
        pos_embed: 'ignore' accepts a checkpoint whose position table is not our fixed
            sin-cos table (a learned one, e.g. a timm supervised ViT); by default ('check')
            such a table fails the load.
    """

    def __init__(self, *, checkpoint: str, sha256: Optional[str] = None,
                 pos_embed: str = 'check') -> None:
        if pos_embed not in POS_EMBED_POLICIES:
            raise ValueError(f'ImageViTInflateInit: pos_embed must be one of '
                             f'{POS_EMBED_POLICIES}, got {pos_embed!r}')
        self.checkpoint = checkpoint
        self.sha256 = sha256
        self.pos_embed = pos_embed

    def __call__(self, module: nn.Module) -> None:
        path = cached_file(self.checkpoint, sha256=self.sha256)  # a URL: downloaded once
        if not osp.isfile(path):
            raise FileNotFoundError(missing_image_checkpoint_message(path))
        state = unwrap_state(load_checkpoint_file(path, map_location='cpu'))
        if not is_image_vit_state(state):
            raise RuntimeError(f'{self.checkpoint} is not an image ViT checkpoint (no 2D '
                               '`patch_embed.proj.weight` with `blocks.*`)')
        converted, ignored, notes = image_vit_to_video_encoder(
            state, module, pos_embed=self.pos_embed, source=self.checkpoint)
        report = match_state_dict(converted, module.state_dict(),
                                  source=f'{self.checkpoint}: image ViT',
                                  what=type(module).__name__)
        report.unexpected += ignored
        report.notes += notes
        module.load_state_dict(converted, strict=False)
        print_log(str(report), logger='current')

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: inflated from {self.checkpoint}'
