"""Datasets, media readers and transforms (registered in DATASETS / TRANSFORMS)."""
from .annotations import (AnnotationFormat, LabelMap, annotation_format, load_annotations,
                          read_label_file)
from .av_dataset import AVDataset, av_collate
from .media_writer import write_av_clip
from .readers import (ClipTooShortError, CorruptMediaError, MediaError, MediaNotFoundError,
                      MediaReader, MissingStreamError, media_reader, open_media, probe)
from .samplers import (DistributedWeightedSampler, dataset_labels,
                       label_inverse_frequency_weights)
from .synthetic import SyntheticAVDataset
from .transforms import *  # noqa: F401,F403  (registers every transform)
from .transforms import __all__ as _transforms_all
from .cache import ClipCache, LoadCachedClip, build_cache  # noqa: E402  (after the transforms)

__all__ = [
    'AnnotationFormat', 'annotation_format', 'LabelMap', 'load_annotations', 'read_label_file', 'AVDataset', 'av_collate',
    'DistributedWeightedSampler', 'dataset_labels', 'label_inverse_frequency_weights',
    'SyntheticAVDataset', 'write_av_clip', 'media_reader', 'open_media', 'probe', 'MediaReader',
    'MediaError', 'MediaNotFoundError', 'CorruptMediaError', 'MissingStreamError',
    'ClipTooShortError', 'ClipCache', 'LoadCachedClip', 'build_cache'
] + list(_transforms_all)
