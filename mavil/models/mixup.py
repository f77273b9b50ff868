"""Mixup on a multimodal batch (Table 9: 0.5 for AS-2M, AS-20K, VGGSound and SPC)."""
import torch
from torch import nn

from mavil.registry import MODELS


@MODELS.register_module()
class BatchMixup(nn.Module):
    """Mix every input modality and the soft targets with one lambda per batch.

    ``lam ~ Beta(alpha, alpha)``; sample ``i`` is mixed with sample ``B - 1 - i`` (the flipped
    batch, as in timm). Audio and video of a clip share the partner and the lambda, so the pair
    stays consistent. Table 9's "Mixup 0.5" is read as ``alpha = 0.5`` applied to every batch
    (Audio-MAE's fine-tuning recipe, which MAViL follows); ``prob`` < 1 mixes only some batches.

    Domain: AudioMAE's ``main_finetune_as.py`` applies timm's ``Mixup(mixup_alpha=0.5, prob=1,
    mode='batch')`` to the batch of normalised, SpecAugment-ed fbanks, which is what this does
    (the fbank arrives normalised from the pipeline; mixing commutes with the affine
    ``AudioNormalize``, so mixing before or after it is the same). AudioMAE's second,
    dataset-level mixup of WAVEFORMS is ``WaveformMixup`` in the audio-only data pipelines.
    Video is mixed as timm mixes images: normalised frames.

    Args:
        alpha: Beta distribution parameter (> 0).
        prob: probability that a batch is mixed.
    """

    def __init__(self, *, alpha: float = 0.5, prob: float = 1.0) -> None:
        super().__init__()
        if alpha <= 0:
            raise ValueError(f'mixup alpha must be > 0 (remove batch_augment to disable), '
                             f'got {alpha}')
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'mixup prob must be in [0, 1], got {prob}')
        self.alpha = alpha
        self.prob = prob

    def forward(self, inputs: dict[str, torch.Tensor],
                targets: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """inputs {modality: [B, ...]}, targets [B, C] -> mixed copies."""
        if self.prob < 1.0 and float(torch.rand(())) >= self.prob:
            return inputs, targets
        lam = float(torch.distributions.Beta(self.alpha, self.alpha).sample())
        mixed = {m: lam * x + (1 - lam) * x.flip(0) for m, x in inputs.items()}
        return mixed, lam * targets + (1 - lam) * targets.flip(0)

    def extra_repr(self) -> str:
        return f'alpha={self.alpha}, prob={self.prob}'
