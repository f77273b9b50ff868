"""The config's test pipeline, per file, for the streams the file has.

A config names its test pipeline in one of these places (first found wins):
``test_dataloader.dataset.pipeline``, ``val_dataloader.dataset.pipeline``, ``test_pipeline``,
``test_dataset.pipeline``. Pre-training configs define ``test_pipeline`` in their dataset base.

For a file that lacks a stream (audio-only or video-only), :func:`pipeline_for` drops the
missing modality from ``LoadAudioVideo`` / ``PackAVInputs`` and removes that modality's
transforms, so the file yields the modality it has instead of an error. A transform belongs to
a modality through its class attribute ``modality`` ('audio' / 'video'), or, for the built-in
transforms, through the module that defines it (``transforms/audio.py``, ``transforms/video.py``).
"""
import copy
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.dataset import Compose

import mavil.datasets  # noqa: F401  (registers the transforms)
from mavil.datasets.readers import MissingStreamError, probe
from mavil.registry import TRANSFORMS
from mavil.structures import MODALITIES

_MODALITY_MODULES = {'mavil.datasets.transforms.audio': 'audio',
                     'mavil.datasets.transforms.video': 'video'}
_STREAM_AWARE = ('LoadAudioVideo', 'PackAVInputs')


def _dataset_pipeline(dataset) -> Optional[list]:
    if not dataset:
        return None
    if 'pipeline' in dataset:
        return dataset['pipeline']
    for inner in dataset.get('datasets', []) or [dataset.get('dataset')]:  # wrappers
        found = _dataset_pipeline(inner)
        if found is not None:
            return found
    return None


def test_pipeline_cfg(cfg: Config) -> list[dict]:
    """The config's test pipeline (a deep copy of the transform configs)."""
    candidates = (
        _dataset_pipeline((cfg.get('test_dataloader') or {}).get('dataset')),
        _dataset_pipeline((cfg.get('val_dataloader') or {}).get('dataset')),
        cfg.get('test_pipeline'),
        _dataset_pipeline(cfg.get('test_dataset')),
    )
    for pipeline in candidates:
        if pipeline:
            return copy.deepcopy(list(pipeline))
    raise KeyError(f'config {cfg.filename or "<dict>"} defines no test pipeline: set '
                   f'test_dataloader.dataset.pipeline or test_pipeline (load, deterministic '
                   f'clip, resize + centre crop, no augmentation, PackAVInputs)')


def transform_modality(transform_type) -> Optional[str]:
    """'audio', 'video' or None (both / neither) for a transform type name or class."""
    cls = TRANSFORMS.get(transform_type) if isinstance(transform_type, str) else transform_type
    if cls is None:
        raise KeyError(f'unknown transform type {transform_type!r}')
    explicit = getattr(cls, 'modality', None)
    if explicit is not None:
        return explicit
    return _MODALITY_MODULES.get(getattr(cls, '__module__', ''))


def pipeline_for(pipeline: Sequence[dict], modalities: Sequence[str]) -> list[dict]:
    """``pipeline`` restricted to ``modalities`` (a non-empty subset of audio/video)."""
    modalities = tuple(m for m in MODALITIES if m in modalities)
    if not modalities:
        raise ValueError('pipeline_for needs at least one modality')
    out = []
    for t in copy.deepcopy(list(pipeline)):
        name = t['type'].split('.')[-1] if isinstance(t['type'], str) else t['type'].__name__
        if name in _STREAM_AWARE:
            have = tuple(t.get('modalities', MODALITIES))
            t['modalities'] = tuple(m for m in have if m in modalities)
            if not t['modalities']:
                raise ValueError(f'{name} loads {have}; none of {modalities} is among them')
        elif transform_modality(t['type']) not in (None, *modalities):
            continue
        out.append(t)
    return out


def pipeline_modalities(pipeline: Sequence[dict]) -> tuple[str, ...]:
    """The modalities a pipeline's ``PackAVInputs`` packs."""
    for t in pipeline:
        name = t['type'].split('.')[-1] if isinstance(t['type'], str) else t['type'].__name__
        if name == 'PackAVInputs':
            return tuple(t.get('modalities', MODALITIES))
    raise KeyError('the test pipeline has no PackAVInputs')


def build_pipeline(pipeline: Sequence[dict]) -> Compose:
    return Compose([TRANSFORMS.build(t) for t in pipeline])


class ClipLoader:
    """Runs a config's test pipeline on files, for the streams each file has.

    Args:
        cfg: the model's config.
        modalities: what to load (default: what the test pipeline packs).
    """

    def __init__(self, cfg: Config, modalities: Optional[Sequence[str]] = None) -> None:
        self.base = test_pipeline_cfg(cfg)
        packed = pipeline_modalities(self.base)
        self.modalities = tuple(m for m in MODALITIES
                                if m in (modalities if modalities is not None else packed))
        unknown = set(modalities or ()) - set(MODALITIES)
        if unknown or not self.modalities:
            raise ValueError(f'modalities must be a non-empty subset of {MODALITIES}, got '
                             f'{modalities}')
        self._built: dict[tuple[str, ...], Compose] = {}

    def streams(self, filename: str) -> tuple[str, ...]:
        """The requested modalities this file has (a MediaError when it cannot be opened)."""
        info = probe(filename)
        have = tuple(m for m in self.modalities if getattr(info, f'has_{m}'))
        if not have:
            raise MissingStreamError(filename, f'has none of the streams {self.modalities}')
        return have

    def __call__(self, filename: str, modalities: Optional[Sequence[str]] = None) -> dict:
        """Packed sample of ``filename``; ``modalities`` default to the streams it has."""
        have = tuple(modalities) if modalities is not None else self.streams(filename)
        if have not in self._built:
            self._built[have] = build_pipeline(pipeline_for(self.base, have))
        return self._built[have](dict(filename=str(filename)))
