"""Matching a checkpoint's tensors with a model's, and initialising fine-tuning models from
pre-trained checkpoints (App. B.3).

Three checkpoint layouts are understood, all loaded weights-only:

* a MAViL pre-training checkpoint (stage 1 or stage 2): ``audio_encoder.*`` /
  ``video_encoder.*`` are kept; decoders, the pre-training fusion neck, targets and any other
  pre-training-only keys are reported as unexpected and ignored;
* a checkpoint of the fine-tuning model itself (resume, ``tools/test.py``): an exact match;
* an image ViT (ImageNet MAE ``{'model': ...}`` or a timm ViT state dict: top-level
  ``patch_embed.proj.weight`` [D, C, p, p], ``blocks.*``, ``norm.*``): loaded into the video
  encoder, with the 2D patch embedding inflated to the 3D tubelet and the position table
  checked (:mod:`mavil.weights.image_checkpoints`).

Every load produces a :class:`LoadReport` (matched / missing / unexpected keys). A tensor whose
shape differs from the model's is never skipped silently: the load fails with the full list of
mismatched shapes (a checkpoint of another architecture), and so does a checkpoint that shares
no key with the model.
"""
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from .checkpoint_io import load_checkpoint_file, model_state_dict
from .image_checkpoints import image_vit_to_video_encoder, is_image_vit_state

MAX_LISTED = 20


def key_listing(keys: Sequence[str], limit: int = MAX_LISTED, sep: str = ', ') -> str:
    """The first ``limit`` of ``keys`` joined by ``sep``, then ``... (N more)`` for the rest:
    key lists in messages stay readable for checkpoints with hundreds of tensors."""
    more = len(keys) - limit
    return sep.join(keys[:limit]) + (f'{sep}... ({more} more)' if more > 0 else '')


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
            + key_listing(mismatched, sep='\n  '))
    if not report.matched:
        raise RuntimeError(
            f'checkpoint ({source}) shares no tensor with {what}. Checkpoint keys: '
            f'{key_listing(sorted(state))}; model keys: {key_listing(list(model_state))}')
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
