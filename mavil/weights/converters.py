"""Key maps from public checkpoints to our models (written from the public code's module names).

Sources (all loaded weights-only; pass the state dict, ``{'model': ...}`` unwrapped):

* AudioMAE (facebookresearch/AudioMAE): pre-trained ``models_mae.MaskedAutoencoderViT``
  (``patch_embed.proj``, ``cls_token``, ``pos_embed``, ``blocks.i``, ``norm``, ``decoder_*``,
  ``mask_token``) and fine-tuned ``models_vit.VisionTransformer`` with ``global_pool``
  (no ``norm``; ``fc_norm``, ``head``) -> our ``audio_encoder`` (+ ``head`` of an audio
  ``AVClassifier``).
* ImageNet MAE / timm ViT -> ``video_encoder``, 2D patch kernel inflated to the tubelet
  (:func:`mavil.weights.image_checkpoints.image_vit_to_video_encoder`).
* MAViL fine-tuned weights released with av-superb (``models_vitmm.VisionTransformerMM``):
  audio ``patch_embed`` / ``cls_token`` / ``pos_embed`` / ``blocks``; video ``patch_embed_v`` /
  ``cls_token_v`` / ``pos_embed_v`` / ``blocks_v``; A+V fusion ``blocks_av`` + ``fc_norm_av`` +
  ``head_av``; or per-modality ``fc_norm_a`` / ``head_a`` and ``fc_norm_v`` / ``head_v`` ->
  ``AVClassifier``.

Position tables are never copied blindly: each checkpoint's table is compared with the tables
our encoders can compute (:data:`mavil.pos_embed.POS_LAYOUTS`); the matching
layout is returned as a config option (``pos_layout``), and a table matching none fails.
Timm's blocks (``norm1``, ``attn.qkv``, ``attn.proj``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``)
have the same names and shapes as ours.
"""
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch

from mavil.pos_embed import sincos_pos_embed
from .image_checkpoints import image_vit_to_video_encoder
from .matching import key_listing

POS_ATOL = 1e-4


@dataclass
class Conversion:
    """A converted state dict (our key names) and what the model config must say for it.

    Attributes:
        state: tensors under our keys (e.g. ``audio_encoder.blocks.0.attn.qkv.weight``).
        cfg_options: config overrides the weights need (``--cfg-options`` syntax), e.g. the
            encoders' ``pos_layout`` or ``model.encoder_norm=False``.
        ignored: source keys not converted (decoders, mask token, position tables, ...).
        notes: what was checked or changed.
    """
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    cfg_options: dict = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f'converted {len(self.state)} tensors; ignored {len(self.ignored)}'
                 + (f' ({key_listing(self.ignored, 8)})' if self.ignored else '')]
        lines += [f'  {n}' for n in self.notes]
        if self.cfg_options:
            lines.append('  config: ' + ' '.join(f'{k}={v!r}' for k, v in
                                                 self.cfg_options.items()))
        return '\n'.join(lines)


def detect_pos_layout(table: torch.Tensor, grid_size: Sequence[int], layouts: Sequence[str],
                      *, source: str) -> str:
    """Which of our fixed tables (``layouts``) a checkpoint's ``pos_embed`` equals."""
    table = table.detach().float().reshape(-1, table.shape[-1])
    num = math.prod(grid_size)
    if table.shape[0] not in (num, num + 1):
        raise ValueError(f'{source}: pos_embed has {table.shape[0]} rows; the model\'s '
                         f'{tuple(grid_size)} token grid needs {num} (+1 for [CLS])')
    diffs = {}
    for layout in layouts:
        ours = sincos_pos_embed(grid_size, table.shape[-1], cls_token=table.shape[0] == num + 1,
                                layout=layout)
        diffs[layout] = (table - ours).abs().max().item()
        if diffs[layout] <= POS_ATOL:
            return layout
    raise RuntimeError(f'{source}: pos_embed {list(table.shape)} matches none of our fixed '
                       f'tables on the {tuple(grid_size)} grid (max |diff| per layout: '
                       f'{ {k: round(v, 4) for k, v in diffs.items()} }); the weights would '
                       f'see other position codes than they were trained with')


def _rename(state: Mapping[str, torch.Tensor], rules: Sequence[tuple[str, str]],
            conv: Conversion) -> None:
    """Longest matching source prefix wins; unmatched keys are ignored."""
    ordered = sorted(rules, key=lambda r: -len(r[0]))
    for key, value in state.items():
        for src, dst in ordered:
            if key == src or (src.endswith('.') and key.startswith(src)):
                conv.state[dst + key[len(src):]] = value
                break
        else:
            conv.ignored.append(key)


def convert_audiomae(state: Mapping[str, torch.Tensor], *,
                     grid_size: Sequence[int] = (64, 8)) -> Conversion:
    """AudioMAE pre-trained (``models_mae``) or fine-tuned (``models_vit``, global pool).

    Args:
        state: the checkpoint's ``model`` dict.
        grid_size: our audio encoder's (time, frequency) token grid (1024x128 / 16 -> 64x8).

    Returns:
        ``audio_encoder.*`` (+ ``head.norm`` / ``head.fc`` for a fine-tuned checkpoint, which
        also needs ``model.encoder_norm=False``: it has no final encoder norm).
    """
    conv = Conversion()
    fine_tuned = 'head.weight' in state
    body = {k: v for k, v in state.items() if k not in ('pos_embed', )}
    rules = [('patch_embed.', 'audio_encoder.patch_embed.'),
             ('cls_token', 'audio_encoder.cls_token'), ('blocks.', 'audio_encoder.blocks.'),
             ('norm.', 'audio_encoder.norm.'),
             ('fc_norm.', 'head.norm.'), ('head.', 'head.fc.')]
    _rename(body, rules, conv)
    if 'pos_embed' in state:
        layout = detect_pos_layout(state['pos_embed'], grid_size, ('mae', 'audiomae'),
                                   source='AudioMAE checkpoint')
        conv.ignored.append('pos_embed')
        conv.notes.append(f'pos_embed equals our {layout!r} table (recomputed, not copied)')
        conv.cfg_options['model.audio_encoder.pos_layout'] = layout
    if fine_tuned:
        if 'norm.weight' in state:
            raise ValueError('AudioMAE checkpoint has both head and encoder norm: not a '
                             'global-pool fine-tuned model_vit checkpoint')
        conv.cfg_options['model.encoder_norm'] = False
        conv.cfg_options['model.head.num_classes'] = int(state['head.weight'].shape[0])
        conv.notes.append('fine-tuned (global pool): fc_norm -> head.norm, head -> head.fc')
    return conv


def convert_image_vit(state: Mapping[str, torch.Tensor], encoder: torch.nn.Module, *,
                      prefix: str = 'video_encoder.', pos_embed: str = 'check') -> Conversion:
    """ImageNet MAE / timm ViT -> a video encoder (2D patch kernel inflated)."""
    converted, ignored, notes = image_vit_to_video_encoder(
        state, encoder, prefix, pos_embed=pos_embed, source='image ViT checkpoint')
    return Conversion(state=converted, ignored=list(ignored), notes=list(notes))


def convert_avsuperb_mavil(state: Mapping[str, torch.Tensor], *,
                           modalities: Sequence[str] = ('audio', 'video'),
                           audio_grid: Sequence[int] = (64, 8),
                           video_grid: Sequence[int] = (4, 14, 14)) -> Conversion:
    """MAViL fine-tuned weights in av-superb's ``models_vitmm`` naming -> ``AVClassifier``.

    ``modalities`` ('audio', 'video'): the A+V model (``blocks_av`` fusion, ``head_av``);
    ('audio',) or ('video',): one branch with its own ``fc_norm_*`` / ``head_*`` (checkpoints
    fine-tuned without fusion have one head per modality, two separate classifiers here).
    """
    modalities = tuple(modalities)
    conv = Conversion()
    rules = []
    if 'audio' in modalities:
        rules += [('patch_embed.', 'audio_encoder.patch_embed.'),
                  ('cls_token', 'audio_encoder.cls_token'), ('blocks.', 'audio_encoder.blocks.')]
    if 'video' in modalities:
        rules += [('patch_embed_v.', 'video_encoder.patch_embed.'),
                  ('cls_token_v', 'video_encoder.cls_token'),
                  ('blocks_v.', 'video_encoder.blocks.')]
    if modalities == ('audio', 'video'):
        if not any(k.startswith('blocks_av.') for k in state):
            raise ValueError('this checkpoint has no A+V fusion (blocks_av); it was fine-tuned '
                             'per modality: convert it with modalities=("audio",) and '
                             '("video",) into two classifiers')
        rules += [('blocks_av.', 'av_fusion.blocks.'), ('fc_norm_av.', 'head.norm.'),
                  ('head_av.', 'head.fc.')]
        depth = 1 + max(int(k.split('.')[1]) for k in state if k.startswith('blocks_av.'))
        conv.cfg_options.update({'model.fusion.depth': depth, 'model.fusion.final_norm': False})
        head = 'head_av.weight'
    elif modalities in (('audio', ), ('video', )):
        tag = modalities[0][0]
        rules += [(f'fc_norm_{tag}.', 'head.norm.'), (f'head_{tag}.', 'head.fc.')]
        head = f'head_{tag}.weight'
    else:
        raise ValueError(f'modalities must be ("audio", "video"), ("audio",) or ("video",), '
                         f'got {modalities}')
    if head not in state:
        raise KeyError(f'no {head} in the checkpoint: not a models_vitmm fine-tuned state dict '
                       f'for modalities {modalities}')
    _rename({k: v for k, v in state.items() if k not in ('pos_embed', 'pos_embed_v')},
            rules, conv)
    conv.cfg_options['model.encoder_norm'] = False
    conv.cfg_options['model.head.num_classes'] = int(state[head].shape[0])
    for key, modality, grid, layouts in (('pos_embed', 'audio', audio_grid, ('mae', 'audiomae')),
                                         ('pos_embed_v', 'video', video_grid,
                                          ('mae', 'concat_t'))):
        if modality not in modalities or key not in state:
            continue
        layout = detect_pos_layout(state[key], grid, layouts, source=f'av-superb {key}')
        conv.ignored.append(key)
        conv.notes.append(f'{key} equals our {layout!r} table (recomputed, not copied)')
        conv.cfg_options[f'model.{modality}_encoder.pos_layout'] = layout
    return conv
