"""Stage-2 targets (Sec. 3.3, Eq. 5): a frozen teacher's contextualized tokens on the full view.

    a_T || v_T = g_av^T(f_a^T(a) || f_v^T(v))      'M-Fusion' (default, Table 4a col. 4)
    a_T, v_T   = f_a^T(a), f_v^T(v)                'M-Uni'    (MAViL's uni-modal outputs, col. 3)
    a_T, v_T   = f_a^MAE(a), f_v^MAE(v)            'A/V-MAE'  (separate uni-modal MAEs, col. 2)

The teacher is built from its own config file (encoders and fusion neck only, no decoders),
loaded weights-only from the previous stage's final checkpoint, frozen, and kept in eval mode.
It is deliberately NOT a registered submodule: it never appears in ``parameters()`` (so never in
the optimizer or in DDP's buckets), in ``state_dict()`` (student checkpoints do not duplicate
it), or in ``children()`` (a top-level ``init_cfg`` cannot re-initialise it). ``_apply`` is
overridden so ``.to()`` / ``.cuda()`` / ``.half()`` on the student still move it.

A stage-2 checkpoint records which teacher it was trained against (path + SHA-256 of the
teacher's weights) as this module's ``extra_state``; loading the checkpoint back into a model
whose teacher weights differ raises, so a resumed run cannot silently switch teachers.
"""
import copy
import hashlib
import os
import os.path as osp
from pathlib import Path
from typing import Optional, Union

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import print_log
from torch import nn

from mavil import hardware
from mavil.checkpoint_io import (check_pos_layouts, load_checkpoint_file, model_state_dict,
                                 recorded_pos_layouts)
from mavil.registry import MODELS, build_component
from ..necks import build_fusion

TARGET_TYPES = ('M-Fusion', 'M-Uni', 'A/V-MAE')
_REPO_ROOT = Path(__file__).resolve().parents[3]
_MAX_LISTED = 20


class FrozenTeacher(nn.Module):
    """Container of the teacher's encoders (+ fusion). Attribute names match ``MAViL``'s, so
    a MAViL checkpoint's ``audio_encoder.*`` / ``video_encoder.*`` / ``fusion.*`` keys load as is.
    """

    def __init__(self, audio_encoder: nn.Module, video_encoder: nn.Module,
                 fusion: Optional[nn.Module]) -> None:
        super().__init__()
        self.audio_encoder = audio_encoder
        self.video_encoder = video_encoder
        self.fusion = fusion

    @property
    def encoders(self) -> dict[str, nn.Module]:
        return {'audio': self.audio_encoder, 'video': self.video_encoder}

    def train(self, mode: bool = True) -> 'FrozenTeacher':
        return super().train(False)  # always eval: no dropout / drop-path on targets


def weights_sha256(state: dict[str, torch.Tensor]) -> str:
    """Hash of names, dtypes, shapes and bytes: identifies a teacher by its weights, not by
    its file (a re-saved or moved checkpoint with the same weights hashes the same)."""
    digest = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        digest.update(f'{key}|{t.dtype}|{tuple(t.shape)}|'.encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy())  # no copy
    return digest.hexdigest()


def _listing(keys: list[str]) -> str:
    shown = ', '.join(keys[:_MAX_LISTED])
    more = len(keys) - _MAX_LISTED
    return shown + (f', ... ({more} more)' if more > 0 else '')


@MODELS.register_module()
class TeacherTargets(nn.Module):
    """inputs {'audio': [B, 1, T, F], 'video': [B, 3, T, H, W]} -> {modality: [B, N, H]}.

    Per-token targets of width H (the teacher's embedding size, 768 for ViT-B) for the N patch
    tokens ([CLS] dropped) of the COMPLETE (unmasked) inputs, float32, without gradient.

    Args:
        teacher_config: the config file the teacher was trained with (its ``model`` must have
            ``audio_encoder``, ``video_encoder`` and ``fusion``), or a loaded ``Config``/dict.
            A relative path is tried from the working directory, then from the repository root.
        teacher_ckpt: the teacher's checkpoint (the previous stage's final checkpoint), loaded
            weights-only.
        teacher_cfg_options: overrides merged into the teacher config (nested dict, as
            ``--cfg-options`` gives): the options the teacher's stage was trained with.
        target_type: 'M-Fusion' (fusion outputs, the paper's default), 'M-Uni' (the teacher's
            encoder outputs before fusion) or 'A/V-MAE' (encoder outputs of a uni-modal MAE pair:
            the teacher config must have ``fusion=None`` and no contrastive loss, e.g.
            ``configs/mavil/ablations/fusion_none.py``).
        normalize: per-token layer norm of the targets without affine parameters (as data2vec
            does to its teacher's outputs). The paper does not say it normalises, so this is off
            by default. The teacher's outputs already come out of a LayerNorm; normalising only
            removes that LayerNorm's learnt per-channel scale and shift.
        autocast: run the teacher under ``torch.autocast(autocast_dtype)``. None (default):
            on where :func:`mavil.hardware.bf16_is_faster` (CUDA with bf16, CPUs with AMX,
            other CPUs where a cached bf16 vs fp32 matmul probe measured bf16 faster), off
            otherwise. Targets are returned as float32 either way. An outer autocast (e.g.
            the student's AMP) does not leak into the teacher: its precision is decided here
            alone.
        autocast_dtype: 'bfloat16' (default) or 'float16'.
        verify_teacher: when a stage-2 checkpoint is loaded (resume), raise if it was trained
            against a teacher whose weights differ from this one's.
    """

    def __init__(self,
                 *,
                 teacher_config: Union[str, dict, Config],
                 teacher_ckpt: str,
                 teacher_cfg_options: Optional[dict] = None,
                 target_type: str = 'M-Fusion',
                 normalize: bool = False,
                 autocast: Optional[bool] = None,
                 autocast_dtype: str = 'bfloat16',
                 verify_teacher: bool = True,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if target_type not in TARGET_TYPES:
            raise ValueError(f'target_type must be one of {TARGET_TYPES}, got {target_type!r}')
        if autocast_dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"autocast_dtype must be 'bfloat16' or 'float16', got "
                             f'{autocast_dtype!r}')
        self.target_type = target_type
        self.normalize = normalize
        self.autocast = autocast
        self.autocast_dtype = getattr(torch, autocast_dtype)
        self.verify_teacher = verify_teacher
        self.eps = eps
        self._modality_of: dict[int, str] = {}

        self.teacher_config_path, model_cfg = self._load_config(teacher_config,
                                                                teacher_cfg_options)
        self.teacher_ckpt = self._check_ckpt_exists(teacher_ckpt)
        teacher = self._build_teacher(model_cfg)
        self.teacher_sha256 = self._load_weights(teacher)
        teacher.eval().requires_grad_(False)
        # Plain attribute, not a submodule: invisible to parameters(), state_dict(), children().
        object.__setattr__(self, '_teacher', teacher)
        n_params = sum(p.numel() for p in teacher.parameters())
        print_log(f'frozen teacher ({n_params / 1e6:.1f} M parameters, {target_type} targets, '
                  f'width {self.embed_dims}) from {self.teacher_ckpt} (weights sha256 '
                  f'{self.teacher_sha256[:16]}...), config {self.teacher_config_path}',
                  logger='current')

    # ------------------------------------------------------------------------------ build
    @property
    def teacher(self) -> FrozenTeacher:
        return self._teacher

    def _load_config(self, teacher_config,
                     options: Optional[dict] = None) -> tuple[Optional[str], dict]:
        if isinstance(teacher_config, (str, os.PathLike)):
            path = str(teacher_config)
            candidates = [path] if osp.isabs(path) else [path, str(_REPO_ROOT / path)]
            found = next((p for p in candidates if osp.isfile(p)), None)
            if found is None:
                raise FileNotFoundError(f'teacher config not found; tried {candidates}')
            cfg = Config.fromfile(found)
            path = osp.abspath(found)
        else:
            cfg, path = teacher_config, None
        if options:  # on a copy: a Config / dict given by the caller stays as it is
            cfg = Config(copy.deepcopy(cfg.to_dict() if isinstance(cfg, Config) else dict(cfg)))
            cfg.merge_from_dict(dict(options))
        model_cfg = cfg.get('model')
        where = path or 'the teacher config'
        if model_cfg is None:
            raise KeyError(f'{where} has no "model"')
        missing = [k for k in ('audio_encoder', 'video_encoder') if not model_cfg.get(k)]
        if missing:
            raise KeyError(f'{where}: model has no {missing}; a teacher needs audio and video '
                           'encoders (a MAViL pre-training config)')
        has_fusion = model_cfg.get('fusion') is not None
        if self.target_type == 'M-Fusion' and not has_fusion:
            raise ValueError(f"target_type='M-Fusion' takes the teacher's fusion outputs, but "
                             f'{where} has fusion=None (an Audio-MAE + Video-MAE pair); use '
                             "target_type='A/V-MAE' (or 'M-Uni')")
        if self.target_type == 'A/V-MAE':
            coupled = [k for k in ('fusion', 'inter_loss', 'intra_loss')
                       if model_cfg.get(k) is not None]
            if coupled:
                raise ValueError(f"target_type='A/V-MAE' expects separately trained uni-modal "
                                 f'MAEs (fusion=None, no contrastive loss), but {where} sets '
                                 f"{coupled}; use target_type='M-Uni' for a MAViL teacher's "
                                 'uni-modal outputs')
        return path, copy.deepcopy(model_cfg)

    def _check_ckpt_exists(self, ckpt: str) -> str:
        if ckpt and osp.isfile(ckpt):
            return osp.abspath(ckpt)
        origin = ''
        if self.teacher_config_path is not None:
            name = osp.splitext(osp.basename(self.teacher_config_path))[0]
            origin = (f' It is the final checkpoint of the previous stage, i.e. of training '
                      f'{self.teacher_config_path} (tools/train.py writes it to work_dirs/{name}/ '
                      f'unless --work-dir is given).')
        folder = osp.dirname(osp.abspath(ckpt)) if ckpt else None
        found = ''
        if folder and osp.isdir(folder):
            present = sorted(f for f in os.listdir(folder) if f.endswith('.pth'))
            found = (f' {folder} holds {present}: did the previous stage finish?' if present
                     else f' {folder} holds no checkpoint.')
        raise FileNotFoundError(
            f'teacher checkpoint not found: {ckpt!r} (expected at '
            f'{osp.abspath(ckpt) if ckpt else "?"}).{origin}{found} Train the previous stage '
            'first (or run tools/pretrain_pipeline.py), or point to the file with '
            '--cfg-options model.target.teacher_ckpt=PATH.')

    def _build_teacher(self, model_cfg: dict) -> FrozenTeacher:
        encoders = {m: build_component(MODELS, model_cfg[f'{m}_encoder'])
                    for m in ('audio', 'video')}
        fusion = None
        if self.target_type == 'M-Fusion':  # the cheapest correct path: no unused modules
            fusion = build_fusion(model_cfg['fusion'], encoders)
        return FrozenTeacher(encoders['audio'], encoders['video'], fusion)

    def _load_weights(self, teacher: FrozenTeacher) -> str:
        """Strictly load the teacher's part of the checkpoint; returns the weights' hash."""
        checkpoint = load_checkpoint_file(self.teacher_ckpt, map_location='cpu')
        check_pos_layouts(teacher, recorded_pos_layouts(checkpoint), self.teacher_ckpt)
        state = model_state_dict(checkpoint)
        state = {k[len('module.'):] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        built = {name for name, child in teacher.named_children()}
        expected = teacher.state_dict()
        # Only the parts the teacher uses are compared: decoders, the student's targets etc.
        # are ignored, and so is a fusion neck that 'M-Uni' / 'A/V-MAE' do not run.
        mine = {k: v for k, v in state.items() if k.split('.', 1)[0] in built}
        missing = sorted(set(expected) - set(mine))
        unexpected = sorted(set(mine) - set(expected))
        shapes = sorted(f'{k}: checkpoint {tuple(mine[k].shape)} vs config '
                        f'{tuple(expected[k].shape)}' for k in set(mine) & set(expected)
                        if mine[k].shape != expected[k].shape)
        if self.target_type == 'M-Fusion' and not any(k.startswith('fusion.') for k in state):
            missing = ['fusion.* (the checkpoint has no fusion neck)'] + [
                k for k in missing if not k.startswith('fusion.')]
        if missing or unexpected or shapes:
            lines = [f'teacher checkpoint {self.teacher_ckpt} does not match teacher config '
                     f'{self.teacher_config_path or "(given as a dict)"}: the config must be the '
                     'one the checkpoint was trained with.']
            if missing:
                lines.append(f'  missing keys ({len(missing)}): {_listing(missing)}')
            if unexpected:
                lines.append(f'  unexpected keys ({len(unexpected)}): {_listing(unexpected)}')
            if shapes:
                lines.append(f'  shape mismatches ({len(shapes)}): {_listing(shapes)}')
            raise RuntimeError('\n'.join(lines))
        teacher.load_state_dict(mine, strict=True)
        return weights_sha256(mine)

    # ------------------------------------------------------------------- student contract
    @property
    def embed_dims(self) -> dict[str, int]:
        """Target width per modality (fusion outputs share the fusion's width)."""
        if self.target_type == 'M-Fusion':
            return {m: self.teacher.fusion.embed_dim for m in self.teacher.encoders}
        return {m: enc.embed_dim for m, enc in self.teacher.encoders.items()}

    def check_compatible(self, encoders: dict[str, nn.Module]) -> None:
        """Teacher token i must cover the same input region as student token i."""
        problems = []
        for modality, student in encoders.items():
            teacher = self.teacher.encoders.get(modality)
            if teacher is None:
                problems.append(f'{modality}: the teacher has no {modality} encoder')
                continue
            t_pe, s_pe = teacher.patch_embed, student.patch_embed
            t = (tuple(t_pe.input_size), tuple(t_pe.patch_size), tuple(t_pe.grid_size))
            s = (tuple(s_pe.input_size), tuple(s_pe.patch_size), tuple(s_pe.grid_size))
            if t != s:
                problems.append(f'{modality}: teacher input {t[0]} / patch {t[1]} -> token grid '
                                f'{t[2]}, student input {s[0]} / patch {s[1]} -> token grid {s[2]}')
            self._modality_of[id(student)] = modality
        if problems:
            raise ValueError('teacher and student token grids differ (targets are per token):\n  '
                             + '\n  '.join(problems))

    def out_dim(self, encoder: nn.Module) -> int:
        """Target width for the student's ``encoder``: the teacher's embedding size H."""
        dims = self.embed_dims
        if len(set(dims.values())) == 1:
            return next(iter(dims.values()))
        modality = self._modality_of.get(id(encoder))
        if modality is None:
            raise RuntimeError('teacher widths differ per modality; call check_compatible('
                               'encoders) before out_dim')
        return dims[modality]

    # ---------------------------------------------------------------------------- forward
    def use_autocast(self, device_type: str) -> bool:
        if self.autocast is not None:
            return bool(self.autocast)
        return hardware.bf16_is_faster(device_type)

    @torch.no_grad()
    def forward(self, inputs: dict[str, torch.Tensor],
                encoders: Optional[dict[str, nn.Module]] = None) -> dict[str, torch.Tensor]:
        audio, video = inputs['audio'], inputs['video']  # complete views
        device_type = audio.device.type
        teacher = self.teacher
        with torch.autocast(device_type, dtype=self.autocast_dtype,
                            enabled=self.use_autocast(device_type)):
            a, _ = teacher.audio_encoder(audio, masked=False)  # [B, 1 + Na, H]
            v, _ = teacher.video_encoder(video, masked=False)  # [B, 1 + Nv, H]
            if self.target_type == 'M-Fusion':
                a, v = teacher.fusion(a, v)
        targets = {'audio': a[:, 1:].float(), 'video': v[:, 1:].float()}  # drop [CLS]
        if self.normalize:
            targets = {m: F.layer_norm(t, t.shape[-1:], eps=self.eps)
                       for m, t in targets.items()}
        return targets

    # ------------------------------------------------------------------ device and state
    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        self._teacher._apply(fn)  # .to() / .cuda() / .half() reach the unregistered teacher
        return self

    def get_extra_state(self) -> dict:
        return {'teacher_ckpt': self.teacher_ckpt, 'teacher_sha256': self.teacher_sha256,
                'target_type': self.target_type}

    def set_extra_state(self, state: dict) -> None:
        if not self.verify_teacher or not isinstance(state, dict):
            return
        recorded = (state.get('teacher_sha256'), state.get('target_type'))
        if recorded != (self.teacher_sha256, self.target_type):
            raise RuntimeError(
                f'this stage-2 checkpoint was trained against teacher '
                f'{state.get("teacher_ckpt")} ({state.get("target_type")}, weights sha256 '
                f'{state.get("teacher_sha256")}), but the configured teacher is '
                f'{self.teacher_ckpt} ({self.target_type}, weights sha256 '
                f'{self.teacher_sha256}). The teacher file changed or another teacher is '
                'configured; continuing would train toward different targets. Restore the '
                'original teacher, or set model.target.verify_teacher=False to load anyway.')

    def extra_repr(self) -> str:
        return (f'target_type={self.target_type!r}, teacher_ckpt={self.teacher_ckpt!r}, '
                f'width={self.embed_dims}, normalize={self.normalize}, frozen teacher '
                f'(not a submodule)')
