"""Write small audio-video files with PyAV (tests, demo data generation).

PyAV's wheel bundles its own FFmpeg with libx264, MPEG-4, VP9, AAC and Opus encoders, so
real ``.mp4`` / ``.mkv`` / ``.webm`` files can be written without a system FFmpeg.
"""
import heapq
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

import av
import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]

# container suffix -> (video codec, audio codec)
DEFAULT_CODECS = {
    '.mp4': ('libx264', 'aac'),
    '.mkv': ('libx264', 'aac'),
    '.webm': ('libvpx-vp9', 'libopus'),
    '.avi': ('mpeg4', 'pcm_s16le'),
}
_LAYOUTS = {1: 'mono', 2: 'stereo'}
# Sample rates Opus accepts; other codecs take any common rate.
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def write_av_clip(path: Union[str, Path],
                  *,
                  frames: Optional[ArrayLike] = None,
                  fps: float = 25.0,
                  waveform: Optional[ArrayLike] = None,
                  sample_rate: int = 16000,
                  video_codec: Optional[str] = None,
                  audio_codec: Optional[str] = None,
                  crf: int = 23,
                  faststart: bool = False) -> Path:
    """Encode ``frames`` and/or ``waveform`` into one container file.

    Args:
        path: output file; its suffix picks the container and default codecs
            (``.mp4``/``.mkv``: H.264 + AAC, ``.webm``: VP9 + Opus, ``.avi``: MPEG-4 + PCM).
        frames: uint8 RGB video ``[T, H, W, 3]``, or None for an audio-only file. Odd sizes
            work: H.264 is then written as 4:4:4 (4:2:0 needs even sizes), MPEG-4 is refused.
        fps: video frame rate (may be fractional, e.g. 29.97).
        waveform: float audio in [-1, 1], ``[C, S]`` (or ``[S]`` for mono), or None for a
            video-only file.
        sample_rate: audio sample rate in Hz.
        video_codec: encoder name overriding the suffix default.
        audio_codec: encoder name overriding the suffix default.
        crf: H.264 / VP9 quality (lower is better); other codecs get a generous bit rate.
        faststart: for MP4, put the index (``moov``) at the front of the file, as streaming
            sites do; by default it is written at the end.

    Returns:
        The written path.
    """
    path = Path(path)
    if frames is None and waveform is None:
        raise ValueError(f'{path}: nothing to write (frames and waveform are both None)')
    default_video, default_audio = DEFAULT_CODECS.get(path.suffix.lower(), ('libx264', 'aac'))
    video_codec = video_codec or default_video
    audio_codec = audio_codec or default_audio
    path.parent.mkdir(parents=True, exist_ok=True)

    video = None if frames is None else _as_numpy(frames, np.uint8)
    audio = None if waveform is None else _as_numpy(waveform, np.float32)
    if video is not None and (video.ndim != 4 or video.shape[-1] != 3):
        raise ValueError(f'{path}: frames must be [T, H, W, 3] uint8, got {video.shape}')
    if audio is not None:
        audio = audio[None] if audio.ndim == 1 else audio  # [C, S]
        if audio.ndim != 2 or audio.shape[0] > 2:
            raise ValueError(f'{path}: waveform must be mono or stereo [C, S], got '
                             f'{audio.shape}')
        if audio_codec == 'libopus' and sample_rate not in _OPUS_RATES:
            raise ValueError(f'{path}: Opus cannot encode {sample_rate} Hz; use one of '
                             f'{_OPUS_RATES} or another audio_codec')

    options = {'movflags': 'faststart'} if faststart and path.suffix.lower() == '.mp4' else {}
    with av.open(str(path), mode='w', options=options) as container:
        streams = {}
        if video is not None:
            streams['video'] = _add_video_stream(container, video_codec, video.shape, fps, crf,
                                                 path)
        if audio is not None:
            streams['audio'] = container.add_stream(audio_codec, rate=sample_rate)
            streams['audio'].layout = _LAYOUTS[audio.shape[0]]
        # Encode in presentation order (lazily) so the file is interleaved like a download.
        events = heapq.merge(_video_frames(video, fps), _audio_frames(audio, sample_rate),
                             key=lambda event: event[0])
        for _, kind, frame in events:
            container.mux(streams[kind].encode(frame))
        for stream in streams.values():
            container.mux(stream.encode())  # flush
    return path


Event = Tuple[float, str, object]  # (time in s, stream kind, PyAV frame)


def _video_frames(video: Optional[np.ndarray], fps: float) -> Iterator[Event]:
    for i, frame in enumerate(() if video is None else video):  # [H, W, 3]
        yield i / fps, 'video', av.VideoFrame.from_ndarray(np.ascontiguousarray(frame),
                                                            format='rgb24')


def _audio_frames(audio: Optional[np.ndarray], sample_rate: int,
                  chunk: int = 1024) -> Iterator[Event]:
    if audio is None:
        return
    for start in range(0, audio.shape[1], chunk):
        part = np.ascontiguousarray(audio[:, start:start + chunk])  # [C, n] planar float
        frame = av.AudioFrame.from_ndarray(part, format='fltp', layout=_LAYOUTS[audio.shape[0]])
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        yield start / sample_rate, 'audio', frame


def _add_video_stream(container, codec: str, shape: tuple, fps: float, crf: int,
                      path: Path):
    _, height, width, _ = shape
    odd = height % 2 or width % 2
    rate = Fraction(fps).limit_denominator(1001)
    stream = container.add_stream(codec, rate=rate)
    stream.width, stream.height = width, height
    if codec == 'libx264':
        stream.pix_fmt = 'yuv444p' if odd else 'yuv420p'
        stream.options = {'crf': str(crf), 'preset': 'ultrafast'}
    elif codec == 'libvpx-vp9':
        stream.pix_fmt = 'yuv444p' if odd else 'yuv420p'
        stream.options = {'crf': str(crf), 'b': '0', 'deadline': 'realtime', 'cpu-used': '8'}
    else:
        if odd:
            raise ValueError(f'{path}: codec {codec} needs even frame sizes, got {width}x{height}')
        stream.pix_fmt = 'yuv420p'
        # no CRF here; FFmpeg's default ~200 kb/s blurs flat colours of small clips badly
        stream.bit_rate = max(2_000_000, width * height * 8)
    return stream


def _as_numpy(x: ArrayLike, dtype) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)
