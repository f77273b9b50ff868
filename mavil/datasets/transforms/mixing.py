"""Dataset-level waveform mixup of AST / AudioMAE's fine-tuning data (their ``dataset.py``).

With probability ``prob`` a second clip, drawn uniformly from the dataset, is mixed into the
sample's WAVEFORM before the fbank: ``w = lam w_1 + (1 - lam) w_2`` with ``lam ~ Beta(alpha,
alpha)`` (AudioMAE / AST: prob = the "mixup" rate 0.5, alpha = 10), the partner padded with
zeros or cut to the sample's length; the targets become ``lam y_1 + (1 - lam) y_2``
(``mix_labels`` / ``mix_lambda`` on the data sample, read by ``labels_to_targets``). AudioMAE
applies timm's batch mixup on top (``BatchMixup`` in the model).

The partner comes from the dataset: ``AVDataset`` runs the pipeline steps BEFORE this
transform on another clip and hands the result over as ``results['load_partner']()``; an
unreadable partner leaves the sample unmixed (the partner is not the sample, nothing is
replaced).
"""
import torch

from mavil.registry import TRANSFORMS
from .base import BaseTransform

PARTNER_KEY = 'load_partner'


@TRANSFORMS.register_module()
class WaveformMixup(BaseTransform):
    """Mix another clip's waveform (after ``AudioResample``, before ``KaldiFbank``).

    Args:
        prob: probability that a sample is mixed (AST / AudioMAE "mixup" 0.5).
        alpha: Beta(alpha, alpha) of the mixing weight (AST / AudioMAE: 10).
    """
    needs_partner = True  # AVDataset supplies results['load_partner']

    def __init__(self, *, prob: float = 0.5, alpha: float = 10.0) -> None:
        if not 0.0 <= prob <= 1.0 or alpha <= 0:
            raise ValueError(f'WaveformMixup: prob must be in [0, 1] and alpha > 0, got '
                             f'prob={prob}, alpha={alpha}')
        self.prob = prob
        self.alpha = alpha

    def transform(self, results: dict) -> dict:
        results['mix_lambda'] = None
        load_partner = results.pop(PARTNER_KEY, None)
        if float(torch.rand(())) >= self.prob:
            return results
        if load_partner is None:
            raise RuntimeError('WaveformMixup needs a dataset that supplies a partner clip '
                               f"(results[{PARTNER_KEY!r}], set by AVDataset)")
        partner = load_partner()
        if partner is None:  # unreadable or no other clip
            return results
        waveform = self.require(results, 'waveform')  # [1, S]
        other = partner['waveform']
        if partner.get('sample_rate') != results.get('sample_rate'):
            raise ValueError('WaveformMixup: the partner has another sample rate; put it after '
                             'AudioResample')
        length = waveform.shape[-1]
        other = other[..., :length]
        if other.shape[-1] < length:
            other = torch.nn.functional.pad(other, (0, length - other.shape[-1]))
        lam = float(torch.distributions.Beta(self.alpha, self.alpha).sample())
        results['waveform'] = lam * waveform + (1 - lam) * other
        results['mix_lambda'] = lam
        results['mix_labels'] = partner.get('labels')
        return results
