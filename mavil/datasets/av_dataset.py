"""Annotation-file dataset of video files, with skip-and-count for unreadable clips: a clip
whose media is unusable becomes a marker, which ``av_collate`` sets aside and
``SkippedSampleHook`` counts."""
import os.path as osp
from functools import partial
from typing import Optional, Sequence, Union

import torch

from mmengine.dataset import Compose, pseudo_collate
from torch.utils.data import Dataset

from mavil.registry import DATASETS, FUNCTIONS, TRANSFORMS
from mavil.structures import SKIPPED_KEY
from .annotations import LabelMap, load_annotations, read_label_file
from .readers import MediaError


def skipped_sample(index: int, filename: str, reason: str) -> dict:
    """Marker returned instead of a sample whose media is unusable; collated and counted."""
    return {SKIPPED_KEY: dict(index=index, filename=filename, reason=reason)}


@DATASETS.register_module()
class AVDataset(Dataset):
    """Clips listed in an annotation file, decoded and transformed by ``pipeline``.

    A clip whose media is unusable (missing, corrupt, truncated, lacking a stream, too short)
    is not replaced: ``__getitem__`` returns a ``skipped`` marker that ``av_collate`` removes
    from the batch and ``SkippedSampleHook`` counts, logs and limits (``max_skip_ratio``).

    Args:
        ann_file: annotation file; see :mod:`mavil.datasets.annotations` for formats.
        ann_format: 'csv' | 'jsonl' | 'audioset' | 'vggsound'.
        data_prefix: directory prepended to file names.
        pipeline: transform configs (LoadAudioVideo ... PackAVInputs).
        classes: class names (index = position); or ``label_file`` (AudioSet
            class_labels_indices.csv, or one name per line); else names found in the file.
        filename_template: e.g. '{ytid}_{start:06d}.mp4' for YouTube-id formats.
        split: keep rows of this split (VGGSound 'train' / 'test'); a split with no row is
            an error listing the splits present.
        drop_duplicates: remove rows that list a clip (file, start, end) already listed;
            by default they are kept and reported with their count.
    """

    def __init__(self,
                 *,
                 ann_file: str,
                 ann_format: str = 'csv',
                 data_prefix: str = '',
                 pipeline: Sequence[Union[dict, callable]] = (),
                 classes: Optional[Sequence[str]] = None,
                 label_file: Optional[str] = None,
                 filename_template: Optional[str] = None,
                 split: Optional[str] = None,
                 drop_duplicates: bool = False,
                 test_mode: bool = False) -> None:
        if classes is not None and label_file is not None:
            raise ValueError('give either classes or label_file, not both')
        if not osp.isfile(ann_file):  # before the label file: the more basic problem first
            raise FileNotFoundError(f'annotation file not found: {ann_file}')
        label_map = (LabelMap(classes) if classes is not None else
                     read_label_file(label_file) if label_file is not None else None)
        self.data_list, self.label_map = load_annotations(
            ann_file, ann_format=ann_format, data_prefix=data_prefix, label_map=label_map,
            filename_template=filename_template, split=split,
            drop_duplicates=drop_duplicates)
        self.ann_file = ann_file
        self.test_mode = test_mode
        self.metainfo = dict(classes=self.label_map.classes)
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                 for t in pipeline])
        # a transform that mixes in another clip (WaveformMixup) gets it through
        # results['load_partner']: the steps before it, run on a random other clip
        self._partner_stage = next((i for i, t in enumerate(self.pipeline.transforms)
                                    if getattr(t, 'needs_partner', False)), None)

    def full_init(self) -> None:
        """Nothing to do (annotations load in ``__init__``); MMEngine's dataset wrappers such
        as ``ConcatDataset`` call it."""

    def __len__(self) -> int:
        return len(self.data_list)

    def get_data_info(self, index: int) -> dict:
        return dict(self.data_list[index], sample_idx=index)

    def __getitem__(self, index: int) -> dict:
        info = self.get_data_info(index)
        if self._partner_stage is not None:
            info['load_partner'] = partial(self._load_partner, index)
        try:
            return self.pipeline(info)
        except MediaError as err:
            return skipped_sample(index, info['filename'], err.problem)

    def _load_partner(self, index: int) -> Optional[dict]:
        """A uniformly drawn other clip through the steps before the mixing transform;
        None when there is no other clip or its media is unusable."""
        if len(self) < 2:
            return None
        other = int(torch.randint(len(self) - 1, ()))
        other += other >= index
        results = self.get_data_info(other)
        try:
            for transform in self.pipeline.transforms[:self._partner_stage]:
                results = transform(results)
                if results is None:
                    return None
        except MediaError:
            return None
        return results


@FUNCTIONS.register_module()
def av_collate(batch: list[dict]) -> dict:
    """``pseudo_collate`` of the good samples, plus ``skipped``: the markers of the others."""
    good = [s for s in batch if SKIPPED_KEY not in s]
    skipped = [s[SKIPPED_KEY] for s in batch if SKIPPED_KEY in s]
    collated = pseudo_collate(good) if good else dict(inputs={}, data_samples=[])
    collated[SKIPPED_KEY] = skipped
    return collated
