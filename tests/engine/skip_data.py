"""A synthetic dataset whose listed clips are 'unreadable' (for skip tests; custom_imports)."""
from mavil.datasets import SyntheticAVDataset
from mavil.datasets.av_dataset import skipped_sample
from mavil.registry import DATASETS


@DATASETS.register_module(force=True)
class PartlyUnreadableDataset(SyntheticAVDataset):
    """``SyntheticAVDataset`` returning a skip marker for the indices in ``unreadable``."""

    def __init__(self, *, unreadable=(), **kwargs) -> None:
        super().__init__(**kwargs)
        self.unreadable = set(unreadable)

    def __getitem__(self, index: int) -> dict:
        if index in self.unreadable:
            return skipped_sample(index, f'clip_{index}.mp4', 'corrupt (test)')
        sample = super().__getitem__(index)
        sample['data_samples'].set_metainfo(dict(filename=f'clip_{index}.mp4'))
        return sample
