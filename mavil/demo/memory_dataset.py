"""Training from clips decoded once: the demo's training split, held in memory.

``make demo`` decodes every clip once with the test pipeline (``decode_eval``) for its
evaluation. On the demo data that is also what the training pipeline's loading steps produce
(each 4 s clip is one whole 8-frame / 2 fps clip, so the random clip start is always 0; the
fbank has no random step), so training can reuse those tensors and run only the random steps
(crop, flip) per sample. That halves the demo's CPU time: decoding the same 480 files 12 times
per stage cost as much as the model's forward and backward passes.
"""
from typing import Sequence

import torch
from torch.utils.data import Dataset

from mavil.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class DecodedClipsDataset(Dataset):
    """Samples of one split of a ``torch.save``-d ``{split: {'audio': [N, 1, T, F],
    'video': [N, 3, T, H, W] uint8, 'labels': [N], 'filenames': [...]}}`` file (written by
    :func:`mavil.demo.run.save_splits`), passed through ``pipeline``.

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
