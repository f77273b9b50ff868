"""A registered dataset of synthetic audio-video pairs for smoke tests and tiny configs.

Each clip belongs to one of ``num_classes`` latent classes; the class fixes a spectrogram
pattern and a video pattern, so the pairs are learnable (reconstruction has structure and
paired audio/video agree) while every sample is different (per-sample noise). Deterministic
in (seed, index). Real data plugs into the same config keys (``train_dataloader.dataset``).
"""
from typing import Sequence

import torch
from torch.utils.data import Dataset

from mavil.registry import DATASETS
from mavil.structures import AVDataSample


@DATASETS.register_module()
class SyntheticAVDataset(Dataset):
    """Samples: {'inputs': {'audio': [1, T, F] float32, 'video': [3, T, H, W] uint8},
    'data_samples': AVDataSample(labels=[class])}."""

    def __init__(self,
                 *,
                 num_samples: int = 64,
                 num_classes: int = 4,
                 audio_size: Sequence[int] = (1, 1024, 128),
                 video_size: Sequence[int] = (3, 8, 224, 224),
                 noise_std: float = 0.3,
                 seed: int = 0) -> None:
        if num_samples < 1 or num_classes < 1:
            raise ValueError(f'num_samples and num_classes must be >= 1, got {num_samples}, '
                             f'{num_classes}')
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.audio_size = tuple(audio_size)
        self.video_size = tuple(video_size)
        self.noise_std = noise_std
        self.seed = seed
        gen = torch.Generator().manual_seed(seed)
        # smooth class patterns: low-resolution noise upsampled to the input size
        self.audio_patterns = self._smooth(num_classes, self.audio_size, gen)
        self.video_patterns = self._smooth(num_classes, self.video_size, gen)
        self.metainfo = dict(classes=tuple(f'class_{i}' for i in range(num_classes)))

    @staticmethod
    def _smooth(n: int, size: tuple, gen: torch.Generator) -> torch.Tensor:
        channels, *spatial = size
        coarse = torch.randn(n, channels, *[max(1, s // 8) for s in spatial], generator=gen)
        mode = 'bilinear' if len(spatial) == 2 else 'trilinear'
        return torch.nn.functional.interpolate(coarse, size=spatial, mode=mode)

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.num_samples:
            raise IndexError(f'index {index} out of range for {self.num_samples} samples')
        label = index % self.num_classes
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        audio = self.audio_patterns[label] + self.noise_std * torch.randn(
            self.audio_size, generator=gen)
        video = 128 + 50 * (self.video_patterns[label] + self.noise_std * torch.randn(
            self.video_size, generator=gen))
        sample = AVDataSample(metainfo=dict(clip_id=f'synthetic_{index}'))
        sample.labels = torch.tensor([label])
        return dict(inputs=dict(audio=audio.float(), video=video.clamp(0, 255).to(torch.uint8)),
                    data_samples=sample)
