"""Batches {'audio', 'video'} inputs, moves them to the device and normalises RGB."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mavil.registry import MODELS
from mavil.structures import SKIPPED_KEY

IMAGENET_RGB_MEAN = (123.675, 116.28, 103.53)
IMAGENET_RGB_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class AVDataPreprocessor(BaseDataPreprocessor):
    """inputs {'audio': [1, T, F] each, 'video': [3, T, H, W] each (uint8 or float, 0-255)}
    -> {'audio': [B, 1, T, F] float, 'video': [B, 3, T, H, W] float normalised}.

    Audio arrives already normalised by the transforms ((x - mean) / (2 * std), Table 9).
    """

    def __init__(self,
                 *,
                 modalities: Sequence[str] = ('audio', 'video'),
                 rgb_mean: Sequence[float] = IMAGENET_RGB_MEAN,
                 rgb_std: Sequence[float] = IMAGENET_RGB_STD,
                 non_blocking: bool = True) -> None:
        super().__init__(non_blocking=non_blocking)
        self.modalities = tuple(modalities)
        self.register_buffer('rgb_mean', torch.tensor(rgb_mean).view(-1, 1, 1, 1), False)
        self.register_buffer('rgb_std', torch.tensor(rgb_std).view(-1, 1, 1, 1), False)

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if not inputs and data.get(SKIPPED_KEY):
            files = [item['filename'] for item in data[SKIPPED_KEY]]
            raise RuntimeError(f'every sample of this batch was unreadable: {files}')
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'batch inputs miss modalities {missing}; got {sorted(inputs)}')
        batch: dict[str, torch.Tensor] = {}
        for modality in self.modalities:
            x = inputs[modality]
            x = torch.stack(list(x)) if isinstance(x, (list, tuple)) else x
            x = self.cast_data(x).float()
            if modality == 'video':
                x = (x - self.rgb_mean) / self.rgb_std
            batch[modality] = x
        samples: Optional[list] = data.get('data_samples')
        return dict(inputs=batch, data_samples=self.cast_data(samples))
