"""``LoadCachedClip``: ``LoadAudioVideo``'s output, read from a clip cache instead of decoded
from the video file."""
from typing import Optional, Sequence, Union

import numpy as np
import torch

from mavil.datasets.readers import ClipTooShortError, MissingStreamError
from mavil.datasets.transforms.audio import CACHED_FBANK
from mavil.datasets.transforms.base import BaseTransform
from mavil.datasets.transforms.video import ClipSampler
from mavil.registry import TRANSFORMS
from mavil.structures import MODALITIES
from .reader import ClipCache, frame_positions
from .settings import fbank_settings


@TRANSFORMS.register_module()
class LoadCachedClip(BaseTransform):
    """Read ``results['filename']``'s clip from a cache built by ``tools/data/build_cache.py``.

    A drop-in for :class:`LoadAudioVideo` (same keys, shapes, dtypes and layout; same errors,
    so unusable clips are skipped and counted the same way): the clip sampler draws timestamps
    as it does there, each is mapped to the source frame on screen at that time, and that
    frame is read from the cache. Frames of test-mode samplers the cache was built for and
    frames on its fps grid are those of the video; a training clip whose start falls between
    two grid points gets the grid's frames (the start rounded down, at most ``1 / fps`` s).
    Frames are at the cache's size (short side ``settings.short_side``), JPEG frames within
    the cache's measured pixel error; ``original_shape`` is the source's size.

    Audio: ``waveform`` ``[1, S]`` mono at the cache's rate (``AudioResample`` after it then
    has nothing to do), or, for an fbank cache, ``audio`` ``[1, T, F]`` with
    ``results['cached_fbank']`` set, which ``AudioResample`` and ``KaldiFbank`` check against
    their own settings and pass through.

    Args:
        cache: the cache folder.
        modalities: streams to load (the cache must hold them).
        clip_sampler: :class:`ClipSampler` or its keyword arguments: in training, with the
            cache's grid fps; in test mode, a sampler the cache was built for.
        min_duration: shortest acceptable stream, in seconds.
        data_prefix: the dataset's ``data_prefix`` when it differs from the folder the cache
            was built from (file names are looked up relative to it).
    """

    def __init__(self,
                 *,
                 cache: str,
                 modalities: Sequence[str] = MODALITIES,
                 clip_sampler: Union[dict, ClipSampler] = dict(num_frames=8, fps=2.0),
                 min_duration: float = 1.0,
                 data_prefix: Optional[str] = None) -> None:
        self.cache = ClipCache(cache, data_prefix=data_prefix)
        self.modalities = tuple(modalities)
        self.clip_sampler = (clip_sampler if isinstance(clip_sampler, ClipSampler) else
                             ClipSampler(**clip_sampler))
        self.min_duration = min_duration
        settings = self.cache.settings
        missing = set(self.modalities) - set(settings.modalities)
        if missing or not self.modalities or not set(self.modalities) <= set(MODALITIES):
            raise ValueError(f'LoadCachedClip: modalities {self.modalities} must be a non-empty '
                             f'subset of the cache\'s {settings.modalities} ({cache})')
        sampler = self.clip_sampler
        built_for = (sampler.num_frames, sampler.fps, sampler.num_clips) in settings.test_samplers
        if not (built_for if sampler.test_mode else sampler.fps == settings.fps):
            raise ValueError(f'LoadCachedClip: {sampler} needs frames the cache {cache} does not '
                             f'hold (grid {settings.fps} fps, test samplers (frames, fps, clips) '
                             f'{list(settings.test_samplers)}); rebuild it for this pipeline')

    def transform(self, results: dict) -> dict:
        filename = str(self.require(results, 'filename'))
        record = self.cache.open(filename)
        meta = record.meta
        for modality in self.modalities:
            if modality not in meta['modalities']:
                raise MissingStreamError(filename, f'has no {modality} in the cache, which the '
                                         f'pipeline needs (modalities={self.modalities})')
        self._check_min_duration(filename, 'file', meta['duration'])
        results['duration'] = meta['duration']
        if 'audio' in self.modalities:
            self._check_min_duration(filename, 'audio', meta['audio_seconds'])
            audio = record.audio()
            results['sample_rate'] = meta['sample_rate']
            if meta['audio_format'] == 'fbank16':
                results['audio'] = audio.unsqueeze(0)  # [1, T, F]
                results['audio_frames'] = audio.shape[0]
                results[CACHED_FBANK] = fbank_settings(self.cache.settings)
            else:
                results['waveform'] = audio  # [1, S]
        if 'video' in self.modalities:
            self._check_min_duration(filename, 'video', meta['video_duration'])
            self._load_video(record, results)
        return results

    def _load_video(self, record, results: dict) -> None:
        times = self.clip_sampler(record.meta['video_duration'])  # [N, T]
        num_clips, num_frames = times.shape
        frames = record.frames(frame_positions(record, times))  # [N*T, h, w, 3]
        height, width = frames.shape[1:3]
        video = frames.view(num_clips, num_frames, height, width, -1)
        video = video.permute(0, 4, 1, 2, 3)  # [N, 3, T, h, w]
        results['video'] = video[0] if num_clips == 1 else video
        results['frame_timestamps'] = torch.from_numpy(np.asarray(times))
        results['num_clips'] = num_clips
        results['original_shape'] = tuple(record.meta['original_shape'])
        results['video_fps'] = record.meta['fps']

    def _check_min_duration(self, filename: str, what: str, seconds: float) -> None:
        if seconds < self.min_duration:
            raise ClipTooShortError(filename, f'{what} lasts {seconds:.2f} s, shorter than '
                                    f'min_duration={self.min_duration} s')
