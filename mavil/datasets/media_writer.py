"""Write small audio-video files with PyAV (tests, demo data generation).

PyAV's wheel bundles its own FFmpeg with libx264, MPEG-4, VP9, AAC and Opus encoders, so
real ``.mp4`` / ``.mkv`` / ``.webm`` files can be written without a system FFmpeg.
"""
from fractions import Fraction
from pathlib import Path
from typing import Optional, Union

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
        crf: H.264 / VP9 quality (lower is better).
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
        if audio.ndim != 2:
            raise ValueError(f'{path}: waveform must be [C, S], got {audio.shape}')
    if audio is not None and audio_codec == 'libopus' and sample_rate not in _OPUS_RATES:
        raise ValueError(f'{path}: Opus cannot encode {sample_rate} Hz; use one of '
                         f'{_OPUS_RATES} or another audio_codec')

    options = {'movflags': 'faststart'} if faststart and path.suffix.lower() == '.mp4' else {}
    with av.open(str(path), mode='w', options=options) as container:
        v_stream = a_stream = None
        if video is not None:
            v_stream = _add_video_stream(container, video_codec, video.shape, fps, crf, path)
        if audio is not None:
            a_stream = container.add_stream(audio_codec, rate=sample_rate)
            a_stream.layout = 'mono' if audio.shape[0] == 1 else 'stereo'
            if audio.shape[0] > 2:
                raise ValueError(f'{path}: only mono/stereo audio supported, got {audio.shape[0]}')
        if v_stream is not None:
            for frame in video:
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format='rgb24')
                container.mux(v_stream.encode(vf))
            container.mux(v_stream.encode())
        if a_stream is not None:
            _encode_audio(container, a_stream, audio, sample_rate)
    return path


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
    return stream


def _encode_audio(container, stream, audio: np.ndarray, sample_rate: int) -> None:
    """Encode ``audio`` [C, S] in chunks; the codec's frame size is handled by PyAV."""
    layout = 'mono' if audio.shape[0] == 1 else 'stereo'
    chunk = 1024
    for start in range(0, audio.shape[1], chunk):
        part = np.ascontiguousarray(audio[:, start:start + chunk])  # [C, n], planar float
        frame = av.AudioFrame.from_ndarray(part, format='fltp', layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def _as_numpy(x: ArrayLike, dtype) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)
