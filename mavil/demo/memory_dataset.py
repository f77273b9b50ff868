"""Training from clips decoded once: a split of the demo's ``eval_splits.pt``, held in memory.

The demo's fine-tuning (:mod:`mavil.demo.finetune`) trains on these tensors: they are what the
fine-tuning pipelines' loading steps produce (each 4 s clip is one whole 8-frame / 2 fps clip;
the fbank has no random step), so only the random steps (crop, flip, SpecAugment ...) run per
sample.
"""
from typing import Sequence

import torch
from torch.utils.data import Dataset

from mavil.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class DecodedClipsDataset(Dataset):
    """Samples of one split of a ``torch.save``-d ``{split: {'audio': [N, 1, T, F],
    'video': [N, 3, T, H, W] uint8, 'labels': [N], 'filenames': [...]}}`` file (written by
    :func:`mavil.demo.evaluate.save_splits`), passed through ``pipeline``.

    Each sample enters the pipeline as the results of the loading steps: ``audio`` ``[1, T, F]``
    float, ``video`` ``[3, T, H, W]`` uint8, ``labels`` ``[1]`` and ``filename``; the pipeline
    holds the random steps and ``PackAVInputs``.

    Args:
        splits_file: the file.
        split: which split.
        pipeline: transform configs (built from the ``TRANSFORMS`` registry).
    """

    def __init__(self, splits_file: str, split: str = 'train',
                 pipeline: Sequence[dict] = ()) -> None:
        data = torch.load(splits_file, weights_only=True)
        if split not in data:
            raise KeyError(f'{splits_file} has no split {split!r} (it has {sorted(data)})')
        part = data[split]
        self.audio, self.video, self.labels = part['audio'], part['video'], part['labels']
        self.filenames = list(part['filenames'])
        if not len(self.audio) == len(self.video) == len(self.labels) == len(self.filenames):
            raise ValueError(f'{splits_file}[{split!r}]: audio, video, labels and filenames '
                             'differ in length')
        self.pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict:
        results = dict(audio=self.audio[index].clone(), video=self.video[index].clone(),
                       labels=self.labels[index:index + 1].clone(),
                       filename=self.filenames[index])
        for transform in self.pipeline:
            results = transform(results)
        return results
