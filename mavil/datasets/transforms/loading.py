"""``LoadAudioVideo``: decode one file into a waveform and a sampled clip of frames.

The readers (``backend='decord'``, ``'pyav'``, ``'torchcodec'`` or a plugin's) and the error
types live in :mod:`mavil.datasets.readers`.
"""
import inspect
from typing import Optional, Sequence, Union

import torch

from mavil.datasets.readers import (ClipTooShortError, MissingStreamError, media_reader,
                                    open_media)
from mavil.registry import TRANSFORMS
from mavil.structures import MODALITIES
from .base import BaseTransform
from .video import ClipSampler

_OWN_OPTIONS = ('self', 'filename', 'duration_tolerance', 'num_threads', 'read_video')


@TRANSFORMS.register_module()
class LoadAudioVideo(BaseTransform):
    """Read ``results['filename']``: the whole audio track and the frames of sampled clips.

    Adds to ``results``:

    * ``waveform``: float32 ``[C, S]`` at the file's own rate; ``sample_rate`` (Hz).
    * ``video``: uint8 RGB ``[3, T, H, W]``, or ``[N, 3, T, H, W]`` when the clip sampler
      draws ``N > 1`` clips (multi-clip testing); ``frame_timestamps`` ``[N, T]`` (s);
      ``num_clips``; ``original_shape`` ``(H, W)``.
    * ``duration`` (s, container) and ``video_fps``.

    Every problem raises a :class:`MediaError` naming the file: missing
    (:class:`MediaNotFoundError`), empty, corrupt or truncated (:class:`CorruptMediaError`),
    a needed stream absent (:class:`MissingStreamError`), or a loaded stream shorter than
    ``min_duration`` (:class:`ClipTooShortError`). Nothing is padded or substituted.

    Args:
        backend: media reader registered in ``MEDIA_READERS``: ``'pyav'`` (default),
            ``'decord'``, ``'torchcodec'``...
        modalities: streams to load; a file must have each of them.
        clip_sampler: :class:`ClipSampler` or its keyword arguments.
        min_duration: shortest acceptable stream, in seconds.
        duration_tolerance: seconds a stream may decode short of its declared duration
            before the file is called truncated.
        num_threads: decoder threads per reader.
        reader_options: further keyword arguments of the backend's reader, e.g.
            ``dict(device='cuda')`` for ``'torchcodec'`` (frames decoded by NVDEC, returned
            on the GPU: use it with ``num_workers=0`` or a ``'spawn'`` loader, as CUDA
            cannot be used in forked workers).
    """

    def __init__(self,
                 *,
                 backend: str = 'pyav',
                 modalities: Sequence[str] = MODALITIES,
                 clip_sampler: Union[dict, ClipSampler] = dict(num_frames=8, fps=2.0),
                 min_duration: float = 1.0,
                 duration_tolerance: float = 0.5,
                 num_threads: int = 1,
                 reader_options: Optional[dict] = None) -> None:
        # an unknown backend, or one whose library cannot load here, fails at build time
        reader = media_reader(backend)
        reader.check_available()
        self.reader_options = dict(reader_options or {})
        accepted = inspect.signature(reader.__init__).parameters
        wrong = sorted(k for k in self.reader_options if k not in accepted or k in _OWN_OPTIONS)
        if wrong:
            raise ValueError(f'LoadAudioVideo: reader_options {wrong} are not options of '
                             f"backend '{backend}' (or are set by LoadAudioVideo itself)")
        unknown = set(modalities) - set(MODALITIES)
        if unknown or not modalities:
            raise ValueError(f'LoadAudioVideo: modalities must be a non-empty subset of '
                             f'{MODALITIES}, got {tuple(modalities)}')
        self.backend = backend
        self.modalities = tuple(modalities)
        self.clip_sampler = (clip_sampler if isinstance(clip_sampler, ClipSampler) else
                             ClipSampler(**clip_sampler))
        self.min_duration = min_duration
        self.duration_tolerance = duration_tolerance
        self.num_threads = num_threads

    def transform(self, results: dict) -> dict:
        filename = str(self.require(results, 'filename'))
        # audio-only: the video stream is not even opened (a broken one does not matter)
        video_options = {} if 'video' in self.modalities else {'read_video': False}
        with open_media(filename, backend=self.backend, num_threads=self.num_threads,
                        duration_tolerance=self.duration_tolerance, **video_options,
                        **self.reader_options) as reader:
            for modality in self.modalities:
                if not getattr(reader, f'has_{modality}'):
                    raise MissingStreamError(filename, f'has no {modality} stream, which '
                                             f'the pipeline needs (modalities={self.modalities})')
            if reader.info.duration is not None:  # cheap: refuse before decoding
                self._check_min_duration(filename, 'file', reader.duration)
            results['duration'] = reader.duration
            if 'audio' in self.modalities:
                waveform, sample_rate = reader.read_audio()  # [C, S]
                self._check_min_duration(filename, 'audio', waveform.shape[1] / sample_rate)
                results['waveform'] = waveform
                results['sample_rate'] = sample_rate
            if 'video' in self.modalities:
                self._check_min_duration(filename, 'video', reader.video_duration)
                self._load_video(reader, results)
        return results

    def _load_video(self, reader, results: dict) -> None:
        times = self.clip_sampler(reader.video_duration)  # [N, T]
        num_clips, num_frames = times.shape
        frames = reader.read_frames(times.reshape(-1))  # [N*T, H, W, 3]
        height, width = frames.shape[1:3]
        video = frames.view(num_clips, num_frames, height, width, -1)
        video = video.permute(0, 4, 1, 2, 3)  # [N, 3, T, H, W]
        results['video'] = video[0] if num_clips == 1 else video
        results['frame_timestamps'] = torch.from_numpy(times)
        results['num_clips'] = num_clips
        results['original_shape'] = (height, width)
        results['video_fps'] = reader.fps

    def _check_min_duration(self, filename: str, what: str, seconds: float) -> None:
        if seconds < self.min_duration:
            raise ClipTooShortError(filename, f'{what} lasts {seconds:.2f} s, shorter than '
                                    f'min_duration={self.min_duration} s')
