"""A disjoint slice of ``SyntheticAVDataset`` (same class patterns, other samples), so tiny
fine-tuning configs can validate on clips they never trained on; optionally with N video clips
per sample ``[N, 3, T, H, W]`` (independently noised views of the clip's class pattern), as the
data pipeline packs them for multi-clip testing. Test-only; configs load it with
``custom_imports``."""
import torch

from mavil.datasets import SyntheticAVDataset
from mavil.registry import DATASETS


@DATASETS.register_module()
class SyntheticSplit(SyntheticAVDataset):
    """Samples ``start .. start + num_samples - 1`` of the synthetic stream with ``seed``."""

    def __init__(self, *, start: int = 0, num_samples: int = 64, num_clips: int = 1,
                 **kwargs) -> None:
        super().__init__(num_samples=start + num_samples, **kwargs)
        self.start = start
        self.length = num_samples
        self.num_clips = num_clips

    def __len__(self) -> int:
        return self.length

    def get_data_info(self, index: int) -> dict:
        return dict(labels=[(index + self.start) % self.num_classes])

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(f'index {index} out of range for {self.length} samples')
        sample = super().__getitem__(index + self.start)
        if self.num_clips > 1:
            label = (index + self.start) % self.num_classes
            gen = torch.Generator().manual_seed(7_919 * (index + self.start) + self.seed)
            noise = torch.randn((self.num_clips - 1, *self.video_size), generator=gen)
            extra = 128 + 50 * (self.video_patterns[label] + self.noise_std * noise)
            clips = torch.cat([sample['inputs']['video'][None],
                               extra.clamp(0, 255).to(torch.uint8)])
            sample['inputs']['video'] = clips  # [N, 3, T, H, W]
        return sample
