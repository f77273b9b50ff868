"""Rendering of a demo clip's draws (:class:`mavil.demo.melody.ClipSpec`) into frames and a
waveform, and writing them as one .mp4 file. What is drawn, and why, is documented in
:mod:`mavil.demo.melody`."""
import math
from pathlib import Path
from typing import Callable, Union

import numpy as np

from .melody import CLASSES, NUM_HARMONICS, SHAPES, ClipSpec, DemoDataConfig, loudness


def _shape_mask(shape: str, yy: np.ndarray, xx: np.ndarray, cx: float, cy: float,
                r: float) -> np.ndarray:
    dx, dy = xx - cx, yy - cy
    if shape == 'disc':
        return dx * dx + dy * dy <= r * r
    if shape == 'square':
        return (np.abs(dx) <= 0.85 * r) & (np.abs(dy) <= 0.85 * r)
    if shape == 'triangle':  # apex up
        return (dy <= 0.8 * r) & (dy >= -r + 2 * np.abs(dx) * 0.9)
    if shape == 'cross':
        w = 0.35 * r
        return ((np.abs(dx) <= w) & (np.abs(dy) <= r)) | ((np.abs(dy) <= w) & (np.abs(dx) <= r))
    raise ValueError(f'unknown shape {shape!r}')


def _bounce(p: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect positions into [lo, hi] (an object bouncing off the frame's borders)."""
    span = hi - lo
    q = np.mod(p - lo, 2 * span)
    return lo + np.where(q > span, 2 * span - q, q)


def object_track(spec: ClipSpec, t: np.ndarray, cfg: DemoDataConfig) -> tuple:
    """Centre ``(x, y)`` in px and visibility of the sounding object at times ``t``."""
    x = _bounce(spec.x0 + spec.vx * t, spec.radius, cfg.size - spec.radius)
    y = spec.y0 - spec.step_px * spec.level_at(t)
    return x, y, (t >= spec.onset) & (t < spec.offset)


def scene(spec, cfg: DemoDataConfig) -> tuple:
    """The picture every demo clip shares: a dim random gradient with static texture, and a
    silent grey distractor shape of random kind drifting across, always visible.

    Args:
        spec: the clip's draws (its ``index`` seeds the clip's video generator).
        cfg: the data's frame rate, size, duration and seed.

    Returns:
        ``(rng, t, frames, yy, xx)``: the clip's video generator, for the object's own draws;
        frame times ``[T]`` in s; float32 frames ``[T, H, W, 3]``; the pixel row and column
        grids ``[H, W]`` to draw the object with.
    """
    rng = np.random.default_rng((cfg.seed, spec.index, 1))
    s = cfg.size
    t = np.arange(int(round(cfg.duration * cfg.fps))) / cfg.fps
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    c0, c1 = rng.uniform(10, 90, 3), rng.uniform(10, 90, 3)
    ramp = (xx * math.cos(rng.uniform(0, 6.3)) + yy * math.sin(rng.uniform(0, 6.3))) / s
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    background = c0 + (c1 - c0) * ramp[..., None]
    background += rng.normal(0, 6, (s, s, 1))
    frames = np.repeat(background[None], len(t), axis=0).astype(np.float32)  # [T, H, W, 3]
    d_shape = SHAPES[rng.integers(len(SHAPES))]
    d_r = rng.uniform(0.1, 0.15) * s
    d_grey = rng.uniform(90, 170)
    d_p0, d_v = rng.uniform(d_r, s - d_r, 2), rng.normal(0, 8, 2) * s / 64
    d_x = _bounce(d_p0[0] + d_v[0] * t, d_r, s - d_r)
    d_y = _bounce(d_p0[1] + d_v[1] * t, d_r, s - d_r)
    for i in range(len(t)):
        frames[i][_shape_mask(d_shape, yy, xx, d_x[i], d_y[i], d_r)] = d_grey
    return rng, t, frames, yy, xx


def sound_bed(spec, cfg: DemoDataConfig) -> tuple:
    """The sound every demo clip shares: white noise (``spec.noise_std``) and a 0.4 s tone at
    ``spec.distractor_freq`` Hz from ``spec.distractor_onset`` s, unrelated to the picture.

    Returns:
        ``(rng, t, wave)``: the clip's audio generator, for the sound's own draws; sample
        times ``[S]`` in s; the float64 waveform ``[S]``.
    """
    rng = np.random.default_rng((cfg.seed, spec.index, 2))
    t = np.arange(int(round(cfg.duration * cfg.sample_rate))) / cfg.sample_rate
    wave = rng.normal(0, spec.noise_std, t.shape)
    onset = spec.distractor_onset
    wave += 0.15 * _envelope(t, onset, onset + 0.4) * np.sin(2 * math.pi * spec.distractor_freq * t)
    return rng, t, wave


def render_video(spec: ClipSpec, cfg: DemoDataConfig) -> np.ndarray:
    """uint8 RGB frames ``[T, H, W, 3]``."""
    rng, t, frames, yy, xx = scene(spec, cfg)
    # the sounding object, drawn over the distractor
    x, y, visible = object_track(spec, t, cfg)
    shape = CLASSES[spec.label].shape
    colour = np.array(spec.colour, dtype=np.float32)
    for i in np.flatnonzero(visible):
        frames[i][_shape_mask(shape, yy, xx, x[i], y[i], spec.radius)] = colour
    return np.clip(frames, 0, 255).astype(np.uint8)


def render_audio(spec: ClipSpec, cfg: DemoDataConfig) -> np.ndarray:
    """float32 mono waveform ``[1, S]`` in [-1, 1]."""
    rng, t, wave = sound_bed(spec, cfg)
    sr = cfg.sample_rate
    # the melody: the clip's timbre (harmonic amplitudes) at each note's pitch
    amp = loudness(spec.radius / cfg.size) / sum(spec.harmonics)
    harmonics = np.arange(1, NUM_HARMONICS + 1)[:, None]  # [H, 1]
    for start, stop, level in spec.notes:
        lo, hi = int(start * sr), min(int(math.ceil(stop * sr)) + 1, len(t))
        tn = t[lo:hi]
        pitch = spec.pitch(level)
        phases = rng.uniform(0, 2 * math.pi, (NUM_HARMONICS, 1))
        weights = np.array(spec.harmonics)[:, None] * (pitch * harmonics < sr / 2)
        partials = weights * np.sin(2 * math.pi * pitch * harmonics * tn + phases)  # [H, S]
        wave[lo:hi] += amp * _envelope(tn, start, stop) * partials.sum(0)
    return np.clip(wave, -1, 1).astype(np.float32)[None]


def _envelope(t: np.ndarray, start: float, stop: float, ramp: float = 0.01) -> np.ndarray:
    """1 inside [start, stop), 0 outside, with 10 ms linear ramps (no clicks)."""
    return np.clip(np.minimum(t - start, stop - t) / ramp + 0.5, 0, 1)


def write_rendered(spec, cfg: DemoDataConfig, root: Union[str, Path], render_video: Callable,
                   render_audio: Callable) -> Path:
    """Render ``spec`` with the kind's ``render_video`` / ``render_audio`` and write it as one
    .mp4 file ``root / spec.filename``."""
    from mavil.datasets.media_writer import write_av_clip  # PyAV only when writing files
    return write_av_clip(Path(root) / spec.filename, frames=render_video(spec, cfg),
                         fps=cfg.fps, waveform=render_audio(spec, cfg),
                         sample_rate=cfg.sample_rate, crf=20, faststart=True)


def write_clip(spec: ClipSpec, cfg: DemoDataConfig, root: Union[str, Path]) -> Path:
    return write_rendered(spec, cfg, root, render_video, render_audio)
