"""MAViL pre-training (Sec. 3): masked reconstruction + inter/intra-modal contrast.

Data flow of ``loss`` (paper order):
    encode masked views -> fuse -> decode -> targets -> losses
Stage 1 uses raw targets (Eq. 4); stage 2 swaps in a teacher's contextualized targets (Eq. 6)
by changing only ``target`` in the config.
"""
import copy
from typing import Optional, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch import nn

from mavil.registry import MODELS, build_component
from mavil.structures import AVDataSample
from ..necks import build_fusion

ComponentCfg = Union[dict, nn.Module]


def mean_pool(tokens: torch.Tensor) -> torch.Tensor:
    """Instance embedding: mean over patch tokens, [CLS] excluded. [B, 1 + K, D] -> [B, D]."""
    return tokens[:, 1:].mean(dim=1)


@MODELS.register_module()
class MAViL(BaseModel):
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
        self._check_contrast_dims(inter_loss)
        self.fusion = build_fusion(fusion, self.encoders) if fusion is not None else None
        self.target = build_component(MODELS, target)
        if hasattr(self.target, 'check_compatible'):  # e.g. teacher vs student token grids
            self.target.check_compatible(self.encoders)
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
        audio, video = inputs['audio'], inputs['video']  # [B, 1, T, F], [B, 3, T, H, W]
        B, device = audio.shape[0], audio.device

        # 1. encode masked views: a_um [B, 1 + Ka, D], v_um [B, 1 + Kv, D]
        a_tokens, v_tokens = self.audio_encoder.embed(audio), self.video_encoder.embed(video)
        a_mask = self.audio_encoder.sample_mask(B, device)
        v_mask = self.video_encoder.sample_mask(B, device)
        a_um = self.audio_encoder.encode(a_tokens, a_mask)
        v_um = self.video_encoder.encode(v_tokens, v_mask)

        # 2. fuse: a_mm, v_mm (same shapes)
        a_mm, v_mm = self.fuse(a_um, v_um)

        # 3. decode every token position: [B, Na, Pa], [B, Nv, Pv]
        a_pred = self.audio_decoder(a_mm, a_mask)
        v_pred = self.video_decoder(v_mm, v_mask)

        # 4. targets: raw patches (stage 1) or teacher tokens (stage 2)
        targets = self.target(inputs, self.encoders)

        # 5. losses: Eq. 1 (or 5) + alpha * Eq. 3 inter + beta * Eq. 3 intra
        losses = {
            'loss_rec_audio': self.rec_loss(a_pred, targets['audio'], a_mask.mask),
            'loss_rec_video': self.rec_loss(v_pred, targets['video'], v_mask.mask),
        }
        a_emb, v_emb = mean_pool(a_um), mean_pool(v_um)  # uni-modal, not fused (footnote 1)
        if self.inter_loss is not None:
            inter = self.inter_loss(a_emb, v_emb)
            losses['loss_nce_inter'], losses['acc_inter'] = inter.loss, inter.accuracy
        if self.intra_loss is not None:
            a_emb2 = mean_pool(self.audio_encoder.encode(
                a_tokens, self.audio_encoder.sample_mask(B, device)))
            v_emb2 = mean_pool(self.video_encoder.encode(
                v_tokens, self.video_encoder.sample_mask(B, device)))
            intra_a, intra_v = self.intra_loss(a_emb, a_emb2), self.intra_loss(v_emb, v_emb2)
            losses['loss_nce_intra'] = (intra_a.loss + intra_v.loss) / 2
            losses['acc_intra'] = (intra_a.accuracy + intra_v.accuracy) / 2
        return losses

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
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise ValueError(f'invalid forward mode {mode!r}; use loss, predict or tensor')

    def parse_losses(self, losses: dict) -> tuple[torch.Tensor, dict]:
        """MMEngine's sum of ``loss*`` terms, stopping on a non-finite total before any update."""
        loss, log_vars = super().parse_losses(losses)
        if not torch.isfinite(loss):
            terms = {k: float(v) for k, v in log_vars.items()}
            step = MessageHub.get_current_instance().get_info('iter')
            step = 'unknown' if step is None else step + 1
            raise FloatingPointError(f'non-finite loss at training step {step}: {terms}')
        return loss, log_vars
