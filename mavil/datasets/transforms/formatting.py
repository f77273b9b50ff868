"""Pack transformed results into the model's input format."""
from typing import Sequence

import numpy as np
import torch

from mavil.registry import TRANSFORMS
from mavil.structures import AVDataSample
from .base import BaseTransform

DEFAULT_META_KEYS = ('clip_id', 'filename', 'duration', 'num_clips', 'frame_timestamps',
                     'original_shape', 'crop_box', 'flip')


@TRANSFORMS.register_module()
class PackAVInputs(BaseTransform):
    """``results`` -> ``{'inputs': {...}, 'data_samples': AVDataSample}``.

    ``inputs['audio']`` is float32 ``[1, T, F]``; ``inputs['video']`` is uint8 ``[3, T, H, W]``
    in 0-255 (``[N, 3, T, H, W]`` for multi-clip tests): the model's data preprocessor batches
    and normalises. ``results['labels']`` (class indices), when present, becomes the sample's
    ``labels`` LongTensor.

    Args:
        modalities: input keys to pack; each must be in ``results``.
        meta_keys: keys copied into the sample's metainfo when present.
    """

    def __init__(self, *, modalities: Sequence[str] = ('audio', 'video'),
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.modalities = tuple(modalities)
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        inputs = {}
        for modality in self.modalities:
            x = self.require(results, modality)
            if not isinstance(x, torch.Tensor):
                raise TypeError(f'PackAVInputs: results[{modality!r}] must be a tensor, got '
                                f'{type(x).__name__} ({results.get("filename")})')
            inputs[modality] = x.float().contiguous() if modality == 'audio' else x.contiguous()
        sample = AVDataSample(
            metainfo={k: results[k] for k in self.meta_keys if k in results})
        if results.get('labels') is not None:
            sample.labels = _as_labels(results['labels'])
        if results.get('mix_lambda') is not None:  # WaveformMixup: a second clip's labels
            sample.mix_labels = _as_labels(results['mix_labels'])
            sample.mix_lambda = float(results['mix_lambda'])
        return {'inputs': inputs, 'data_samples': sample}


def _as_labels(labels) -> torch.Tensor:
    """Class indices (int, list, array or tensor) -> LongTensor ``[K]``."""
    if isinstance(labels, torch.Tensor):
        return labels.long().reshape(-1)
    return torch.as_tensor(np.asarray(labels, dtype=np.int64).reshape(-1))
