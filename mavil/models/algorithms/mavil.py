"""MAViL pre-training (Sec. 3): masked reconstruction + inter/intra-modal contrast.

Data flow of ``loss`` (paper order)::

    encode masked views -> fuse -> decode -> targets -> losses

Stage 1 uses raw targets (Eq. 4); stage 2 swaps in a teacher's contextualized targets (Eq. 6)
by changing only ``target`` in the config.
"""
import copy
from dataclasses import dataclass, field
from typing import Optional, Union

import torch
from torch import nn

from mavil.contracts import MaskedEncoder, TargetGenerator, check_contract
from mavil.registry import MODELS, build_component
from mavil.structures import AVDataSample, MicroBatches
from ..layers import MaskInfo
from ..necks import build_fusion
from .base import FiniteLossModel
from .exact_contrast import RNGState, exact_contrast_step, replay_rng

ComponentCfg = Union[dict, nn.Module]


@dataclass
class StepMasks:
    """The masks one training step draws: one view per modality (reconstructed; first view of
    both contrasts) and, with intra-modal contrast, a second one (``*_2``)."""
    audio: MaskInfo
    video: MaskInfo
    audio_2: Optional[MaskInfo] = None
    video_2: Optional[MaskInfo] = None


@dataclass
class EncodedViews:
    """a_um [B, 1 + Ka, D], v_um [B, 1 + Kv, D] and the contrastive embeddings [B, D]:
    'audio', 'video' and, with intra-modal contrast, 'audio_2', 'video_2'."""
    audio: torch.Tensor
    video: torch.Tensor
    embeddings: dict[str, torch.Tensor] = field(default_factory=dict)


def _count(value: int, like: torch.Tensor) -> torch.Tensor:
    """A logged count (a tensor, as MMEngine's log processor wants)."""
    return torch.tensor(float(value), device=like.device)


def mean_pool(tokens: torch.Tensor) -> torch.Tensor:
    """Instance embedding: mean over patch tokens, [CLS] excluded. [B, 1 + K, D] -> [B, D]."""
    return tokens[:, 1:].mean(dim=1)


@MODELS.register_module()
class MAViL(FiniteLossModel):
    """Masked Audio-Video Learner.

    Args:
        audio_encoder, video_encoder: masked ViT encoders (``AudioViT`` / ``VideoViT``).
        audio_decoder, video_decoder: ``MaskedDecoder`` configs; ``in_dim``, ``grid_size`` and
            ``out_dim`` are derived from the encoder and the target generator.
        fusion: fusion neck (``JointFusion`` / ``MBTFusion``) or None (uni-modal MAEs); its
            ``embed_dim`` is derived from the encoders.
        target: target generator (``RawTargets`` in stage 1, ``TeacherTargets`` in stage 2).
        rec_loss: masked reconstruction loss, applied per modality.
        inter_loss: inter-modal InfoNCE (tau 0.1, alpha 0.1) or None.
        intra_loss: intra-modal InfoNCE between two masked views (tau 1.0, beta 0.01) or None.
    """

    supports_micro_batches = True  # train_step takes MicroBatches (exact contrast)
    # Weights whose shape follows the target generator (raw patch width vs a teacher's width):
    # ``load_from`` a checkpoint trained on other targets re-initialises them, and says so.
    target_width_keys = ('audio_decoder.head.', 'video_decoder.head.')

    def __init__(self,
                 *,
                 audio_encoder: ComponentCfg,
                 video_encoder: ComponentCfg,
                 audio_decoder: ComponentCfg,
                 video_decoder: ComponentCfg,
                 fusion: Optional[ComponentCfg] = None,
                 target: ComponentCfg = dict(type='RawTargets'),
                 rec_loss: ComponentCfg = dict(type='MaskedMSELoss'),
                 inter_loss: Optional[ComponentCfg] = dict(
                     type='InfoNCELoss', temperature=0.1, loss_weight=0.1),
                 intra_loss: Optional[ComponentCfg] = dict(
                     type='InfoNCELoss', temperature=1.0, loss_weight=0.01, symmetric=False),
                 data_preprocessor: Optional[ComponentCfg] = dict(type='AVDataPreprocessor'),
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = build_component(MODELS, data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.audio_encoder = build_component(MODELS, audio_encoder)
        self.video_encoder = build_component(MODELS, video_encoder)
        for modality, encoder in self.encoders.items():
            check_contract(encoder, MaskedEncoder, f'model.{modality}_encoder')
        self._check_contrast_dims(inter_loss)
        self.fusion = build_fusion(fusion, self.encoders) if fusion is not None else None
        self.target = build_component(MODELS, target)
        check_contract(self.target, TargetGenerator, 'model.target')
        self.target.check_compatible(self.encoders)  # e.g. teacher vs student token grids
        self.audio_decoder = self._build_decoder(audio_decoder, self.audio_encoder, 'audio')
        self.video_decoder = self._build_decoder(video_decoder, self.video_encoder, 'video')
        self.rec_loss = build_component(MODELS, rec_loss)
        self.inter_loss = build_component(MODELS, inter_loss) if inter_loss else None
        self.intra_loss = build_component(MODELS, intra_loss) if intra_loss else None

    # ----------------------------------------------------------------------------- build
    @property
    def encoders(self) -> dict[str, nn.Module]:
        return {'audio': self.audio_encoder, 'video': self.video_encoder}

    def _build_decoder(self, cfg: ComponentCfg, encoder: nn.Module, modality: str) -> nn.Module:
        if isinstance(cfg, dict):
            cfg = copy.deepcopy(cfg)
            cfg.setdefault('in_dim', encoder.embed_dim)
            cfg.setdefault('grid_size', encoder.grid_size)
            cfg.setdefault('out_dim', self.target.out_dim(encoder))
        decoder = build_component(MODELS, cfg)
        if decoder.in_dim != encoder.embed_dim:
            raise ValueError(f'{modality}_decoder.in_dim={decoder.in_dim} but the '
                             f'{modality} encoder outputs {encoder.embed_dim}-d tokens')
        if tuple(decoder.grid_size) != tuple(encoder.grid_size):
            raise ValueError(f'{modality}_decoder.grid_size={tuple(decoder.grid_size)} but the '
                             f'{modality} encoder has token grid {encoder.grid_size}')
        return decoder

    def _check_contrast_dims(self, inter_loss: Optional[ComponentCfg]) -> None:
        if inter_loss and self.audio_encoder.embed_dim != self.video_encoder.embed_dim:
            raise ValueError(f'inter-modal contrast compares audio and video embeddings '
                             f'directly; the encoders output {self.audio_encoder.embed_dim}-d '
                             f'and {self.video_encoder.embed_dim}-d tokens')

    # ---------------------------------------------------------------------------- forward
    def fuse(self, audio: torch.Tensor,
             video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """g_av: (a_um, v_um) -> (a_mm, v_mm); identity without a fusion neck."""
        return (audio, video) if self.fusion is None else self.fusion(audio, video)

    def loss(self, inputs: dict[str, torch.Tensor],
             data_samples: Optional[list[AVDataSample]] = None) -> dict[str, torch.Tensor]:
        audio = inputs['audio']  # [B, 1, T, F]; video [B, 3, T, H, W]
        masks = self.sample_masks(audio.shape[0], audio.device)
        views = self.encode(inputs, masks)  # 1. encode masked views
        losses = self.reconstruction_losses(inputs, views, masks)  # 2-5. fuse ... Eq. 1 (5)
        losses.update(self.contrastive_losses(views.embeddings))  # 5. alpha, beta x Eq. 3
        return losses

    def sample_masks(self, batch_size: int, device: torch.device) -> StepMasks:
        """The masks of one training step: one view per modality (reconstructed, and the first
        view of both contrasts) and, with intra-modal contrast, a second one."""
        masks = StepMasks(audio=self.audio_encoder.sample_mask(batch_size, device),
                          video=self.video_encoder.sample_mask(batch_size, device))
        if self.intra_loss is not None:
            masks.audio_2 = self.audio_encoder.sample_mask(batch_size, device)
            masks.video_2 = self.video_encoder.sample_mask(batch_size, device)
        return masks

    def encode(self, inputs: dict[str, torch.Tensor], masks: StepMasks) -> EncodedViews:
        """1. a_um [B, 1 + Ka, D], v_um [B, 1 + Kv, D] and the contrastive embeddings [B, D].

        Both views of a modality share one patch embedding. All randomness of the encoders
        (drop path) is drawn here, in a fixed order, so that replaying the RNG state from the
        start of this call reproduces the views exactly (exact contrast accumulation)."""
        a_tokens = self.audio_encoder.embed(inputs['audio'])  # [B, Na, D]
        v_tokens = self.video_encoder.embed(inputs['video'])  # [B, Nv, D]
        # a second (intra-modal) view rides in the same batched pass: [2B, 1 + K, D]
        a_masks = [m for m in (masks.audio, masks.audio_2) if m is not None]
        v_masks = [m for m in (masks.video, masks.video_2) if m is not None]
        a_um, *a_um2 = self.audio_encoder.encode_views(a_tokens, a_masks)
        v_um, *v_um2 = self.video_encoder.encode_views(v_tokens, v_masks)
        # uni-modal, not fused (footnote 1)
        embeddings = {'audio': mean_pool(a_um), 'video': mean_pool(v_um)}
        if a_um2:
            embeddings['audio_2'] = mean_pool(a_um2[0])
            embeddings['video_2'] = mean_pool(v_um2[0])
        return EncodedViews(audio=a_um, video=v_um, embeddings=embeddings)

    def reconstruction_losses(self, inputs: dict[str, torch.Tensor], views: EncodedViews,
                              masks: StepMasks) -> dict[str, torch.Tensor]:
        """2. fuse -> 3. decode -> 4. targets -> 5. masked MSE (Eq. 1, or Eq. 5 in stage 2)."""
        a_mm, v_mm = self.fuse(views.audio, views.video)  # same shapes as a_um, v_um
        a_pred = self.audio_decoder(a_mm, masks.audio)  # [B, Na, Pa]
        v_pred = self.video_decoder(v_mm, masks.video)  # [B, Nv, Pv]
        targets = self.target(inputs, self.encoders)  # raw patches or teacher tokens
        return {
            'loss_rec_audio': self.rec_loss(a_pred, targets['audio'], masks.audio.mask),
            'loss_rec_video': self.rec_loss(v_pred, targets['video'], masks.video.mask),
        }

    @property
    def has_contrast(self) -> bool:
        return self.inter_loss is not None or self.intra_loss is not None

    def contrastive_losses(self, embeddings: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """alpha x inter (Eq. 3) and beta x intra (two masked views) InfoNCE on [B, D]
        embeddings, with diagnostics: top-1 accuracy and the negatives each query saw."""
        losses = {}
        if self.inter_loss is not None:
            inter = self.inter_loss(embeddings['audio'], embeddings['video'])
            losses['loss_nce_inter'], losses['acc_inter'] = inter.loss, inter.accuracy
            losses['negatives_inter'] = _count(inter.num_negatives, inter.accuracy)
        if self.intra_loss is not None:
            intra_a = self.intra_loss(embeddings['audio'], embeddings['audio_2'])
            intra_v = self.intra_loss(embeddings['video'], embeddings['video_2'])
            losses['loss_nce_intra'] = (intra_a.loss + intra_v.loss) / 2
            losses['acc_intra'] = (intra_a.accuracy + intra_v.accuracy) / 2
            losses['negatives_intra'] = _count(intra_a.num_negatives, intra_a.accuracy)
        return losses

    def train_step(self, data, optim_wrapper, *,
                   ddp: Optional[nn.Module] = None) -> dict[str, torch.Tensor]:
        """One optimizer step. ``data`` is a batch (MMEngine's step), or the
        :class:`~mavil.structures.MicroBatches` of one accumulated step: then the contrast
        runs over all of them at once (:func:`exact_contrast_step`). ``ddp`` is the
        distributed wrapper around this model, if any."""
        if isinstance(data, MicroBatches):
            return exact_contrast_step(self, data, optim_wrapper, ddp=ddp)
        return super().train_step(data, optim_wrapper)

    @torch.no_grad()
    def extract_feat(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Full-view (unmasked) uni-modal embeddings: {'audio': [B, D], 'video': [B, D]}."""
        return {m: mean_pool(enc(inputs[m], masked=False)[0])
                for m, enc in self.encoders.items() if m in inputs}

    def predict(self, inputs: dict[str, torch.Tensor],
                data_samples: Optional[list[AVDataSample]] = None) -> list[AVDataSample]:
        feats = self.extract_feat(inputs)
        batch_size = next(iter(feats.values())).shape[0]
        data_samples = data_samples or [AVDataSample() for _ in range(batch_size)]
        for i, sample in enumerate(data_samples):
            for modality, emb in feats.items():
                sample.set_field(emb[i], f'{modality}_embedding')
        return data_samples

    def forward(self, inputs: dict[str, torch.Tensor],
                data_samples: Optional[list[AVDataSample]] = None,
                mode: str = 'tensor', *,
                masks: Optional[StepMasks] = None,
                rng_state: Optional[RNGState] = None):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'replay':  # pass 2 of exact contrast accumulation
            return self.replay_loss(inputs, masks, rng_state)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise ValueError(f'invalid forward mode {mode!r}; use loss, predict or tensor')

    def replay_loss(self, inputs: dict[str, torch.Tensor], masks: StepMasks,
                    rng_state: RNGState) -> tuple[dict, dict[str, torch.Tensor]]:
        """Pass 2 of exact contrast accumulation: the views of pass 1 (same masks, same
        drop-path draws) with gradient. Returns (reconstruction losses, embeddings [B, D])."""
        with replay_rng(rng_state):
            views = self.encode(inputs, masks)
        return self.reconstruction_losses(inputs, views, masks), views.embeddings
