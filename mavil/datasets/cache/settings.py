"""What a cache holds per clip (:class:`CacheSettings`), derived from a config's pipelines so
that every frame and every audio value those pipelines can ask for is in it."""
from dataclasses import asdict, dataclass, replace
from typing import Optional, Sequence, Tuple

from mavil.structures import MODALITIES
from .format import AUDIO_FORMATS, FRAME_FORMATS

# Pipeline steps that never read the waveform: with only these (and the loading, resampling
# and fbank steps) the cache may hold the fbank instead of the waveform.
SPECTROGRAM_TRANSFORMS = ('AudioRandomRoll', 'AudioPadCrop', 'AudioNormalize', 'AudioAddNoise',
                          'SpecAugment')
VIDEO_TRANSFORMS = ('VideoRandomResizedCrop', 'VideoRandomFlip', 'VideoResize',
                    'VideoCenterCrop', 'VideoRandAugment', 'VideoRandomErasing')
FBANK_SAFE = SPECTROGRAM_TRANSFORMS + VIDEO_TRANSFORMS + (
    'LoadAudioVideo', 'LoadCachedClip', 'AudioResample', 'KaldiFbank', 'PackAVInputs')
FBANK_KEYS = ('num_mel_bins', 'frame_length', 'frame_shift', 'window_type')
FBANK_DEFAULTS = dict(num_mel_bins=128, frame_length=25.0, frame_shift=10.0,
                      window_type='hanning')


@dataclass(frozen=True)
class CacheSettings:
    """Per-clip content of a cache.

    Args:
        fps: rate of the frame grid cached over the whole clip (the training clip sampler's).
        test_samplers: ``(num_frames, fps, num_clips)`` of deterministic (test-mode) clip
            samplers whose frames are cached exactly, besides the grid.
        short_side: frames are resized (antialiased bilinear) to this short side; a frame
            already at most this size is kept; None keeps every frame's size.
        frame_format: 'jpeg' or 'raw' (uint8 pixels).
        jpeg_quality: JPEG quality; None: the lowest quality whose measured mean absolute
            pixel error is at most ``max_pixel_error`` (chosen once, at the build's start).
        max_pixel_error: error bound (0-255 scale) for the automatic JPEG quality.
        audio_format: 'pcm16' or 'float32' (mono waveform at ``sample_rate``), or
            'fbank16' (the Kaldi log-mel fbank ``fbank`` of it, float16).
        sample_rate: audio rate in Hz.
        fbank: :class:`KaldiFbank` arguments (``FBANK_KEYS``) for 'fbank16'.
        modalities: streams every clip must have (a clip without one is unusable).
        backend: media reader (``MEDIA_READERS`` name) that decodes the source files.
    """
    fps: float = 2.0
    test_samplers: Tuple[Tuple[int, float, int], ...] = ()
    short_side: Optional[int] = 224
    frame_format: str = 'jpeg'
    jpeg_quality: Optional[int] = None
    max_pixel_error: float = 3.0
    audio_format: str = 'pcm16'
    sample_rate: int = 16000
    fbank: Optional[dict] = None
    modalities: Tuple[str, ...] = MODALITIES
    backend: str = 'pyav'

    def __post_init__(self) -> None:
        if self.frame_format not in FRAME_FORMATS:
            raise ValueError(f'frame_format must be one of {FRAME_FORMATS}, got '
                             f'{self.frame_format!r}')
        if self.audio_format not in AUDIO_FORMATS:
            raise ValueError(f'audio_format must be one of {AUDIO_FORMATS}, got '
                             f'{self.audio_format!r}')
        if self.audio_format == 'fbank16' and not self.fbank:
            raise ValueError("audio_format='fbank16' needs the fbank settings (fbank=...)")
        if not self.fps > 0:
            raise ValueError(f'fps must be > 0, got {self.fps}')
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f'jpeg_quality must be in 1..100, got {self.jpeg_quality}')
        if not set(self.modalities) <= set(MODALITIES) or not self.modalities:
            raise ValueError(f'modalities must be a non-empty subset of {MODALITIES}')

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> 'CacheSettings':
        data = dict(data)
        data['test_samplers'] = tuple(tuple(s) for s in data.get('test_samplers', ()))
        data['modalities'] = tuple(data.get('modalities', MODALITIES))
        return cls(**data)

    def replace(self, **changes) -> 'CacheSettings':
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _sampler_args(step: dict) -> dict:
    sampler = step.get('clip_sampler', dict(num_frames=8, fps=2.0))
    if not isinstance(sampler, dict):  # a built ClipSampler
        sampler = dict(num_frames=sampler.num_frames, fps=sampler.fps,
                       num_clips=sampler.num_clips, test_mode=sampler.test_mode)
    return dict(dict(num_frames=8, fps=2.0, num_clips=1, test_mode=False), **sampler)


def _largest_size(step: dict) -> Optional[int]:
    for key in ('size', 'short_side'):
        value = step.get(key)
        if value is not None:
            return int(max(value)) if isinstance(value, (list, tuple)) else int(value)
    return 224 if step['type'] in ('VideoRandomResizedCrop', 'VideoCenterCrop') else None


def settings_from_pipelines(pipelines: Sequence[Sequence[dict]], *, audio: str = 'auto',
                            **overrides) -> CacheSettings:
    """Settings that serve every pipeline in ``pipelines`` (e.g. the training and the test
    pipeline of one config).

    * grid fps: the training (random-start) clip samplers' fps (they must agree);
    * test samplers: those with ``test_mode=True``;
    * short side: the largest crop or resize size of any video step;
    * audio: ``audio='auto'`` caches the fbank (float16) when every step of every pipeline is
      one that never reads the waveform after the fbank (``FBANK_SAFE``) and all pipelines
      compute the same fbank, else 16-bit PCM; or ``'pcm16'`` / ``'float32'`` / ``'fbank16'``.
    * ``overrides``: any :class:`CacheSettings` field (None values ignored).
    """
    grid_fps, test_samplers, sizes, rates, fbanks = set(), [], [], set(), []
    backend, modalities, fbank_safe = None, None, True
    for pipeline in pipelines:
        fbank_in_pipeline = None
        for step in pipeline:
            kind = step['type']
            fbank_safe &= kind in FBANK_SAFE
            if kind in ('LoadAudioVideo', 'LoadCachedClip'):
                args = _sampler_args(step)
                if args['test_mode']:
                    test_samplers.append((int(args['num_frames']), float(args['fps']),
                                          int(args['num_clips'])))
                else:
                    grid_fps.add(float(args['fps']))
                backend = step.get('backend', backend)
                modalities = tuple(step.get('modalities', modalities or MODALITIES))
            elif kind in VIDEO_TRANSFORMS and _largest_size(step):
                sizes.append(_largest_size(step))
            elif kind == 'AudioResample':
                rates.add(int(step.get('sample_rate', 16000)))
            elif kind == 'KaldiFbank':
                fbank_in_pipeline = {k: step.get(k, FBANK_DEFAULTS[k]) for k in FBANK_KEYS}
                rates.add(int(step.get('sample_rate', 16000)))
        fbanks.append(fbank_in_pipeline)
    if len(grid_fps) > 1 or len(rates) > 1:
        raise ValueError(f'the pipelines disagree: training clip fps {sorted(grid_fps)}, '
                         f'audio rates {sorted(rates)}; build one cache per setting')
    same_fbank = fbanks and fbanks[0] is not None and all(f == fbanks[0] for f in fbanks)
    if audio == 'auto':
        audio = 'fbank16' if fbank_safe and same_fbank else 'pcm16'
    elif audio == 'fbank16' and not same_fbank:
        raise ValueError('audio fbank16: the pipelines do not all compute the same KaldiFbank')
    values = dict(
        fps=grid_fps.pop() if grid_fps else 2.0,
        test_samplers=tuple(dict.fromkeys(test_samplers)),
        short_side=max(sizes) if sizes else None,
        audio_format=audio,
        sample_rate=rates.pop() if rates else 16000,
        fbank=fbanks[0] if audio == 'fbank16' else None,
        backend=backend or 'pyav',
        modalities=modalities or MODALITIES)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return CacheSettings(**values)


def fbank_settings(settings: CacheSettings) -> dict:
    """KaldiFbank keyword arguments of a 'fbank16' cache."""
    return dict(settings.fbank, sample_rate=settings.sample_rate)

