"""Fine-tuning classifier (Sec. 4.3, App. B.3): audio, video or audio+video.

    audio        f_a(a') -> mean-pool -> head
    video        f_v(v') -> mean-pool -> head
    audio+video  g(f_a(a') || f_v(v')) -> [mean-pool(audio part) ; mean-pool(video part)] -> head

``a'`` / ``v'`` are the fine-tuning-masked views while training (20% time/frequency and
space/time slots dropped, App. B.3) and the full inputs at test time. The A+V fusion ``g`` is a
NEW 2-layer vanilla Transformer (``av_fusion``; the pre-training fusion neck is not loaded).
The fused audio and video tokens are pooled separately and concatenated, so the balance of the
two modalities does not change between training (masked: 306 audio vs 468 video tokens) and
testing (512 vs 784).

Multi-clip testing (App. B.3, Table 10): ``predict`` accepts video ``[B, N, 3, T, H, W]``
(N uniformly spaced clips, as packed by the data pipeline when the clip sampler draws
``num_clips=N``) as well as ``[B, 3, T, H, W]``; each clip is classified with the SAME audio
(encoded once) and the N clips' scores are averaged.

Checkpoints: ``load_from`` accepts a MAViL pre-training checkpoint (stage 1 or 2; only the
encoders are taken), an image ViT checkpoint (video encoder, inflated), or a checkpoint of this
model. Shapes are checked and a report of matched / missing / unexpected keys is logged (see
:mod:`mavil.weights.matching`).
"""
import copy
from typing import Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from torch import nn

from mavil.registry import MODELS, build_component
from mavil.structures import AVDataSample
from mavil.weights.matching import LoadReport, adapt_checkpoint_state
from ..layers import FinetuneMasking, flatten_clips, mean_over_clips, mean_pool
from ..necks import build_fusion
from .base import FiniteLossModel

ComponentCfg = Union[dict, nn.Module]
MODALITY_SETS = (('audio', ), ('video', ), ('audio', 'video'))
DEFAULT_FT_MASKING = dict(audio=dict(mode='time_freq', ratio=0.2),
                          video=dict(mode='space_time', ratio=0.2))


def labels_to_targets(data_samples: Sequence[AVDataSample], num_classes: int,
                      device: torch.device | str = 'cpu') -> torch.Tensor:
    """Class indices per sample (``labels``) -> multi-hot targets [B, C]; out-of-range
    labels raise, naming the clip. A sample mixed with another clip in the data pipeline
    (``mix_lambda``, ``mix_labels``: WaveformMixup) gets ``lam y_1 + (1 - lam) y_2``."""
    targets = torch.zeros(len(data_samples), num_classes)
    for i, sample in enumerate(data_samples):
        if 'labels' not in sample:
            raise KeyError(f'sample {i} ({sample.metainfo.get("clip_id", "?")}) has no labels')
        labels = _checked_labels(sample, 'labels', num_classes, i)
        lam = sample.get('mix_lambda')
        if lam is None:
            targets[i, labels] = 1.0
        else:
            targets[i, labels] = lam
            targets[i, _checked_labels(sample, 'mix_labels', num_classes, i)] += 1 - lam
    return targets.to(device)


def _checked_labels(sample: AVDataSample, key: str, num_classes: int, i: int) -> torch.Tensor:
    labels = torch.as_tensor(sample.get(key)).long().flatten().cpu()
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.numel():
        raise ValueError(f'sample {sample.metainfo.get("clip_id", i)} has {key} '
                         f'{bad.tolist()} outside [0, {num_classes}): the label map and '
                         f'the head (num_classes={num_classes}) disagree')
    return labels


@MODELS.register_module()
class AVClassifier(FiniteLossModel):
    """Audio / video / audio+video classifier on pre-trained MAViL encoders.

    Args:
        modalities: ('audio',), ('video',) or ('audio', 'video').
        head: classification head config (``ClsHead`` with ``num_classes``); ``in_dim`` is
            derived from the encoders.
        audio_encoder, video_encoder: encoder configs; exactly those of ``modalities``.
        fusion: the A+V fusion Transformer (``JointFusion``, depth 2), or None to concatenate
            the uni-modal features. Only with both modalities.
        loss: ``SoftBCELoss`` (multi-label or mixup) or ``SoftCrossEntropyLoss``.
        batch_augment: e.g. ``BatchMixup`` (training only), or None.
        label_smoothing: epsilon of label smoothing on the targets, before mixup (timm's
            ``mixup_target`` order): ``y (1 - eps) + eps / C``. 0.1 for single-label video
            and A+V fine-tuning (MAE-ST's recipe), 0 elsewhere.
        encoder_norm: keep the encoders' final LayerNorm before pooling. False (default) is
            MAE's ``global_pool`` fine-tuning head, which MAViL follows ("Following MAE
            [2] ... average-pooled top-layer outputs", Sec. 4.3) as do AudioMAE and MAE-ST:
            MAE's ``models_vit`` deletes the encoder's ``norm`` and applies ``fc_norm``
            after mean pooling; here each encoder's ``norm`` becomes an identity and the
            head's LayerNorm is the ``fc_norm``. A checkpoint's ``*_encoder.norm.*`` tensors
            are then reported as unexpected and not loaded, as in MAE.
        ft_masking: per modality ``dict(mode=..., ratio=...)`` (see ``FinetuneMasking``);
            None or ratio 0 disables it.
        checkpoint_ignore_keys: regexes of checkpoint keys never loaded (e.g. ``'^head\\.'``
            to transfer a fine-tuned model to other classes).
        data_preprocessor: ``AVDataPreprocessor`` with ``modalities`` covering ours.
    """
    adapts_checkpoints = True  # see _adapt_checkpoint

    def __init__(self,
                 *,
                 modalities: Sequence[str],
                 head: ComponentCfg,
                 audio_encoder: Optional[ComponentCfg] = None,
                 video_encoder: Optional[ComponentCfg] = None,
                 fusion: Optional[ComponentCfg] = None,
                 loss: ComponentCfg = dict(type='SoftBCELoss'),
                 batch_augment: Optional[ComponentCfg] = None,
                 label_smoothing: float = 0.0,
                 encoder_norm: bool = False,
                 ft_masking: Optional[dict] = DEFAULT_FT_MASKING,
                 checkpoint_ignore_keys: Sequence[str] = (),
                 data_preprocessor: Optional[ComponentCfg] = dict(type='AVDataPreprocessor'),
                 init_cfg: Optional[dict] = None) -> None:
        modalities = tuple(modalities)
        if modalities not in MODALITY_SETS:
            raise ValueError(f'modalities must be one of {MODALITY_SETS}, got {modalities}')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = build_component(MODELS, data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.modalities = modalities
        given = {'audio': audio_encoder, 'video': video_encoder}
        for modality, cfg in given.items():
            if (cfg is None) == (modality in modalities):
                state = 'needs' if cfg is None else 'does not use'
                raise ValueError(f'AVClassifier(modalities={modalities}) {state} a '
                                 f'{modality}_encoder; set {modality}_encoder='
                                 f'{"<config>" if cfg is None else "None"}')
        self.audio_encoder = build_component(MODELS, audio_encoder) if audio_encoder else None
        self.video_encoder = build_component(MODELS, video_encoder) if video_encoder else None
        if fusion is not None and len(modalities) != 2:
            raise ValueError('fusion needs both modalities; set fusion=None')
        self.av_fusion = build_fusion(fusion, self.encoders) if fusion is not None else None
        self.encoder_norm = encoder_norm
        if not encoder_norm:  # MAE's global pool: fc_norm (the head's norm) replaces it
            for encoder in (self.audio_encoder, self.video_encoder):
                if encoder is not None:
                    encoder.norm = nn.Identity()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.label_smoothing = label_smoothing
        self.head = self._build_head(head)
        self.loss_module = build_component(MODELS, loss)
        if getattr(self.loss_module, 'score_activation', None) not in ('sigmoid', 'softmax'):
            raise ValueError(f'{type(self.loss_module).__name__} must define score_activation '
                             "'sigmoid' or 'softmax'")
        self.batch_augment = (build_component(MODELS, batch_augment)
                              if batch_augment is not None else None)
        self.ft_masking = {m: FinetuneMasking(**cfg) for m, cfg in (ft_masking or {}).items()
                           if m in modalities}
        self.checkpoint_ignore_keys = tuple(checkpoint_ignore_keys)
        self.last_load_report: Optional[LoadReport] = None
        self.register_load_state_dict_pre_hook(self._adapt_checkpoint)
        self._check_preprocessor()

    # ----------------------------------------------------------------------------- build
    @property
    def encoders(self) -> dict[str, nn.Module]:
        return {m: getattr(self, f'{m}_encoder') for m in self.modalities}

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    def _build_head(self, cfg: ComponentCfg) -> nn.Module:
        in_dim = sum(enc.embed_dim for enc in self.encoders.values())
        if isinstance(cfg, dict):
            cfg = copy.deepcopy(cfg)
            cfg.setdefault('in_dim', in_dim)
        head = build_component(MODELS, cfg)
        if head.in_dim != in_dim:
            raise ValueError(f'head.in_dim={head.in_dim} but the pooled features are '
                             f'{in_dim}-d')
        return head

    def _check_preprocessor(self) -> None:
        have = getattr(self.data_preprocessor, 'modalities', None)
        if have is not None and not set(self.modalities) <= set(have):
            raise ValueError(f'data_preprocessor.modalities={tuple(have)} does not provide '
                             f'{self.modalities}')

    def get_layer_depth(self, param_name: str) -> tuple[int, int]:
        """(layer id, number of layer ids) for layer-wise lr decay: patch embedding and
        [CLS] 0, encoder block i -> i + 1, everything after the blocks (encoder norm, fusion,
        head) the top id."""
        depth = max(len(enc.blocks) for enc in self.encoders.values())
        top = depth + 1
        parts = param_name.split('.')
        if parts[0] not in ('audio_encoder', 'video_encoder'):
            return top, top + 1
        if parts[1] in ('patch_embed', 'cls_token'):
            return 0, top + 1
        if parts[1] == 'blocks':
            return int(parts[2]) + 1, top + 1
        return top, top + 1

    # ------------------------------------------------------------------------ checkpoints
    def _adapt_checkpoint(self, module, state_dict, prefix, local_metadata, strict,
                          missing_keys, unexpected_keys, error_msgs) -> None:
        """Load-state-dict pre-hook: convert / check an incoming checkpoint (in place)."""
        own = {k[len(prefix):]: state_dict.pop(k) for k in list(state_dict)
               if k.startswith(prefix)}
        if len(own) == 1 and isinstance(next(iter(own.values())), dict):
            own = next(iter(own.values()))  # {'model': {...}} as written by MAE
        converted, report = adapt_checkpoint_state(own, self,
                                                   ignore_keys=self.checkpoint_ignore_keys)
        state_dict.update({prefix + k: v for k, v in converted.items()})
        self.last_load_report = report
        print_log(str(report), logger='current')

    # ---------------------------------------------------------------------------- forward
    def _encode(self, modality: str, x: torch.Tensor, masked: bool) -> torch.Tensor:
        """[B, C, ...] -> [B, 1 + K, D] ([CLS] first); fine-tuning mask when ``masked``."""
        encoder = self.encoders[modality]
        tokens = encoder.embed(x)
        mask = None
        if masked and modality in self.ft_masking:
            mask = self.ft_masking[modality](x.shape[0], encoder.grid_size, x.device)
        return encoder.encode(tokens, mask)

    def extract_feat(self, inputs: dict[str, torch.Tensor],
                     masked: bool = False) -> torch.Tensor:
        """Pooled features [B * N, D_total] (N video clips per sample, 1 without clips)."""
        num_clips = 1
        tokens = {}
        if 'video' in self.modalities:
            if masked and inputs['video'].dim() == 6:
                raise ValueError('multi-clip video is for testing; training takes one '
                                 'clip per sample [B, 3, T, H, W]')
            video, num_clips = flatten_clips(inputs['video'])  # [B * N, 3, T, H, W]
            tokens['video'] = self._encode('video', video, masked)
        if 'audio' in self.modalities:
            audio = self._encode('audio', inputs['audio'], masked)
            tokens['audio'] = audio.repeat_interleave(num_clips, dim=0)  # same audio per clip
        if self.av_fusion is not None:
            tokens['audio'], tokens['video'] = self.av_fusion(tokens['audio'], tokens['video'])
        return torch.cat([mean_pool(tokens[m]) for m in self.modalities], dim=-1)

    def _num_clips(self, inputs: dict[str, torch.Tensor]) -> int:
        video = inputs.get('video')
        if 'video' in self.modalities and video is not None and video.dim() == 6:
            return video.shape[1]
        return 1

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        if self.loss_module.score_activation == 'sigmoid':
            return logits.sigmoid()
        return logits.softmax(dim=-1)

    def loss(self, inputs: dict[str, torch.Tensor],
             data_samples: list[AVDataSample]) -> dict[str, torch.Tensor]:
        targets = labels_to_targets(data_samples, self.num_classes,
                                    next(iter(inputs.values())).device)
        if self.label_smoothing > 0:
            targets = targets * (1 - self.label_smoothing) + self.label_smoothing / self.num_classes
        inputs = {m: inputs[m] for m in self.modalities}
        if self.batch_augment is not None:
            inputs, targets = self.batch_augment(inputs, targets)
        logits = self.head(self.extract_feat(inputs, masked=True))
        return {'loss_cls': self.loss_module(logits, targets)}

    def predict(self, inputs: dict[str, torch.Tensor],
                data_samples: Optional[list[AVDataSample]] = None) -> list[AVDataSample]:
        """Sets ``pred_score`` [C] (sigmoid or softmax, averaged over video clips)."""
        num_clips = self._num_clips(inputs)
        logits = self.head(self.extract_feat(inputs, masked=False))
        scores = mean_over_clips(self.scores(logits), num_clips)  # [B, C]
        data_samples = data_samples or [AVDataSample() for _ in range(scores.shape[0])]
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score.detach()
        return data_samples

    def forward(self, inputs: dict[str, torch.Tensor],
                data_samples: Optional[list[AVDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':  # logits [B, C], averaged over video clips
            num_clips = self._num_clips(inputs)
            logits = self.head(self.extract_feat(inputs, masked=False))
            return mean_over_clips(logits, num_clips)
        raise ValueError(f'invalid forward mode {mode!r}; use loss, predict or tensor')
