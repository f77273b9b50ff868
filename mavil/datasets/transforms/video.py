"""Clip sampling and spatial video transforms (App. B.1).

Layout: ``results['video']`` is uint8 ``[C, T, H, W]`` for one clip, or
``[N, C, T, H, W]`` for ``N`` test clips (see :class:`ClipSampler`). Spatial transforms act
on the last two dims, apply the same geometry to every frame and clip, keep the dtype
(uint8 stays uint8, 0-255) and never assume 3 channels or a square frame.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms import RandomResizedCrop

from mavil.registry import TRANSFORMS
from .base import BaseTransform

Size = Union[int, Sequence[int]]


def _pair(size: Size) -> Tuple[int, int]:
    """``224`` -> ``(224, 224)``; ``(h, w)`` unchanged."""
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


class ClipSampler:
    """Timestamps of ``num_clips`` clips of ``num_frames`` frames, ``1 / fps`` s apart.

    A clip spans ``num_frames / fps`` seconds (8 frames at 2 fps: 4 s). Timestamps wrap
    modulo the video duration, so a video shorter than a clip loops cyclically (App. B.1).

    * training (``test_mode=False``): each clip starts uniformly at random in
      ``[0, duration - span]``; a video shorter than a span starts anywhere in
      ``[0, duration)`` (with looping every start is a valid clip).
    * test: clips are evenly spaced and centred: clip ``i`` starts at
      ``(duration - span) * (i + 0.5) / num_clips``, so one clip is the centre clip. A video
      shorter than a span starts clip ``i`` at ``duration * i / num_clips``.

    Args:
        num_frames: frames per clip.
        fps: sampling rate of frames within a clip (not the video's frame rate).
        num_clips: clips per video (``> 1`` for multi-clip testing).
        test_mode: deterministic placement instead of random starts.
    """

    def __init__(self, *, num_frames: int = 8, fps: float = 2.0, num_clips: int = 1,
                 test_mode: bool = False) -> None:
        if num_frames < 1 or num_clips < 1 or fps <= 0:
            raise ValueError(f'ClipSampler needs num_frames >= 1, num_clips >= 1, fps > 0; got '
                             f'{num_frames}, {num_clips}, {fps}')
        self.num_frames = num_frames
        self.fps = fps
        self.num_clips = num_clips
        self.test_mode = test_mode

    @property
    def span(self) -> float:
        """Seconds covered by one clip."""
        return self.num_frames / self.fps

    def __call__(self, duration: float) -> np.ndarray:
        """Return float64 timestamps ``[num_clips, num_frames]`` in ``[0, duration)``."""
        if not duration > 0:
            raise ValueError(f'cannot sample clips from a video of duration {duration}')
        starts = self._starts(duration)  # [N]
        offsets = np.arange(self.num_frames) / self.fps  # [T]
        return np.mod(starts[:, None] + offsets[None, :], duration)

    def _starts(self, duration: float) -> np.ndarray:
        slack = duration - self.span
        if self.test_mode:
            i = np.arange(self.num_clips)
            if slack >= 0:
                return slack * (i + 0.5) / self.num_clips
            return duration * i / self.num_clips
        high = slack if slack >= 0 else duration
        return torch.rand(self.num_clips, dtype=torch.float64).numpy() * high

    def __repr__(self) -> str:
        return (f'ClipSampler(num_frames={self.num_frames}, fps={self.fps}, '
                f'num_clips={self.num_clips}, test_mode={self.test_mode})')


def resize_video(video: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Bilinear (antialiased) resize of ``[..., C, T, H, W]`` to ``[..., C, T, *size]``."""
    if tuple(video.shape[-2:]) == tuple(size):
        return video
    *lead, c, t, h, w = video.shape
    frames = video.movedim(-4, -3).reshape(-1, c, h, w)  # [L*T, C, H, W]
    # uint8 is supported natively on CPU (with rounding), so no float round trip.
    out = F.interpolate(frames, size=size, mode='bilinear', align_corners=False, antialias=True)
    return out.reshape(*lead, t, c, *size).movedim(-3, -4)


@TRANSFORMS.register_module()
class VideoRandomResizedCrop(BaseTransform):
    """Multi-scale random crop resized to ``size`` (training; App. B.1).

    The crop is torchvision's ``RandomResizedCrop.get_params``: a fraction in ``scale`` of
    the frame area with aspect ratio (width / height) log-uniform in ``ratio``; after 10
    failed draws, the largest centred crop whose ratio is within ``ratio``. One crop for all
    frames of the clip.

    Args:
        size: output ``(h, w)`` or one int for a square.
        scale: range of the cropped area fraction.
        ratio: range of the crop's width / height.
        key: results key of the video.
    """

    def __init__(self, *, size: Size = 224, scale: Sequence[float] = (0.2, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3), key: str = 'video') -> None:
        if not 0 < scale[0] <= scale[1] <= 1 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'VideoRandomResizedCrop: bad scale {scale} or ratio {ratio}')
        self.size = _pair(size)
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.key = key

    def transform(self, results: dict) -> dict:
        video = self.require(results, self.key)  # [..., T, H, W]: only H, W are read
        top, left, h, w = RandomResizedCrop.get_params(video, list(self.scale), list(self.ratio))
        results[self.key] = resize_video(video[..., top:top + h, left:left + w], self.size)
        results['crop_box'] = (top, left, h, w)
        return results


@TRANSFORMS.register_module()
class VideoRandomFlip(BaseTransform):
    """Horizontal flip of every frame with probability ``prob``.

    Args:
        prob: flip probability.
        key: results key of the video.
    """

    def __init__(self, *, prob: float = 0.5, key: str = 'video') -> None:
        self.prob = prob
        self.key = key

    def transform(self, results: dict) -> dict:
        video = self.require(results, self.key)
        flip = bool(torch.rand(()) < self.prob)
        if flip:
            results[self.key] = video.flip(-1)
        results['flip'] = flip
        return results


@TRANSFORMS.register_module()
class VideoResize(BaseTransform):
    """Resize so the short side is ``short_side`` (ratio kept), or to exactly ``size``.

    Args:
        short_side: target length of the shorter side.
        size: exact output ``(h, w)`` (or an int for a square), instead of ``short_side``.
        key: results key of the video.
    """

    def __init__(self, *, short_side: Optional[int] = None, size: Optional[Size] = None,
                 key: str = 'video') -> None:
        if (short_side is None) == (size is None):
            raise ValueError('VideoResize needs exactly one of short_side or size')
        self.short_side = short_side
        self.size = None if size is None else _pair(size)
        self.key = key

    def output_size(self, height: int, width: int) -> Tuple[int, int]:
        if self.size is not None:
            return self.size
        s = self.short_side
        if height <= width:
            return s, max(1, round(width * s / height))
        return max(1, round(height * s / width)), s

    def transform(self, results: dict) -> dict:
        video = self.require(results, self.key)
        results[self.key] = resize_video(video, self.output_size(*video.shape[-2:]))
        return results


@TRANSFORMS.register_module()
class VideoCenterCrop(BaseTransform):
    """Central ``size`` crop (test; App. B.1). The frame must be at least ``size``.

    Args:
        size: output ``(h, w)`` or one int for a square.
        key: results key of the video.
    """

    def __init__(self, *, size: Size = 224, key: str = 'video') -> None:
        self.size = _pair(size)
        self.key = key

    def transform(self, results: dict) -> dict:
        video = self.require(results, self.key)
        height, width = video.shape[-2:]
        h, w = self.size
        if h > height or w > width:
            raise ValueError(f"VideoCenterCrop: crop {h}x{w} exceeds the {height}x{width} frame"
                             f" of {results.get('filename', 'this clip')}; resize it first "
                             '(VideoResize)')
        top, left = (height - h) // 2, (width - w) // 2
        results[self.key] = video[..., top:top + h, left:left + w]
        return results
