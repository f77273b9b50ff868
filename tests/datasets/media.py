"""Small real media files for tests (and later dataset tests): written with PyAV.

Frames carry their own index so a test can tell which frame a reader returned: channel G is
``16 + 8 * (i % 28)`` and channel B ``16 + 8 * (i // 28)`` over the whole frame (flat areas
survive lossy coding), channel R a horizontal ramp.
"""
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch

from mavil.datasets.media_writer import write_av_clip

_STEP, _BASE, _PER_ROW = 8, 16, 28


def make_frames(num_frames: int, height: int, width: int) -> np.ndarray:
    """uint8 ``[T, H, W, 3]`` whose frames encode their index (see module docstring)."""
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    frames[..., 0] = np.linspace(0, 255, width, dtype=np.float32).astype(np.uint8)
    idx = np.arange(num_frames)
    frames[..., 1] = (_BASE + _STEP * (idx % _PER_ROW))[:, None, None]
    frames[..., 2] = (_BASE + _STEP * (idx // _PER_ROW))[:, None, None]
    return frames


def frame_ids(frames: torch.Tensor) -> list:
    """Recover the indices encoded by :func:`make_frames` from ``[T, H, W, 3]`` or
    ``[3, T, H, W]`` uint8 frames."""
    if frames.shape[-1] != 3:
        frames = frames.movedim(0, -1)  # [3, T, H, W] -> [T, H, W, 3]
    g = frames[..., 1].float().mean(dim=(1, 2))
    b = frames[..., 2].float().mean(dim=(1, 2))
    low = torch.round((g - _BASE) / _STEP).long()
    high = torch.round((b - _BASE) / _STEP).long()
    return (high * _PER_ROW + low).tolist()


def make_tone(seconds: float, sample_rate: int, channels: int = 1,
              freq: float = 440.0) -> np.ndarray:
    """float32 ``[C, S]`` sine; channel ``c`` has amplitude ``0.2 * (c + 1)``."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    wave = np.sin(2 * np.pi * freq * t)
    return np.stack([0.2 * (c + 1) * wave for c in range(channels)]).astype(np.float32)


def write_clip(path: Path,
               *,
               seconds: float = 2.0,
               fps: float = 10.0,
               size: Tuple[int, int] = (48, 64),
               sample_rate: int = 16000,
               channels: int = 1,
               video: bool = True,
               audio: bool = True,
               silent: bool = False,
               **kwargs) -> Path:
    """Write a clip of ``seconds`` with ``size`` = (H, W) frames and a tone (or silence)."""
    frames = make_frames(int(round(seconds * fps)), *size) if video else None
    waveform = None
    if audio:
        waveform = make_tone(seconds, sample_rate, channels)
        waveform = np.zeros_like(waveform) if silent else waveform
    return write_av_clip(path, frames=frames, fps=fps, waveform=waveform,
                         sample_rate=sample_rate, **kwargs)


def truncate(src: Path, dst: Path, fraction: float) -> Path:
    """Copy the first ``fraction`` of ``src``'s bytes to ``dst`` (a cut-off download)."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[:int(len(data) * fraction)])
    return Path(dst)


def truncate_at_packet(src: Path, dst: Path, fraction: float) -> Path:
    """Cut ``src`` cleanly at the first packet starting past ``fraction`` of its bytes, so
    every remaining packet is whole: the file decodes without error, only shorter."""
    import av
    data = Path(src).read_bytes()
    with av.open(str(src)) as container:
        starts = sorted(p.pos for p in container.demux() if p.pos is not None and p.pos >= 0)
    cut = next(pos for pos in starts if pos >= len(data) * fraction)
    Path(dst).write_bytes(data[:cut])
    return Path(dst)


def backend_params(names):
    """``names`` of media backends as pytest parameters; a backend whose library cannot be
    loaded on this machine (``check_available`` raises ImportError) is skipped with the
    reason, every other backend runs."""
    from mavil.datasets.readers import media_reader
    params = []
    for name in names:
        try:
            media_reader(name).check_available()
            marks = ()
        except ImportError as err:
            marks = pytest.mark.skip(reason=f'{err} ({err.__cause__})')
        params.append(pytest.param(name, marks=marks))
    return params
