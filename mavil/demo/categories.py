"""Second kind of demo data (``--data-kind category``): sound and picture share only a
*category*, which each expresses in its own, unrelated way.

Nothing in sound and picture co-varies except the category: no timing (the object is visible
for the whole clip, the sounds start at random times), no pitch-height or pitch-colour link,
no size-loudness link. Each of the 8 categories has a *sound pattern* and a *picture pattern*,
paired by a fixed arbitrary permutation (:data:`PICTURE_OF`)::

    sound pattern (8) = glide (rising / falling) x tremolo (none / 10 Hz) x rhythm
                        (2 long events / 4 short events, same total sounding time)
    picture pattern (8) = shape (disc / square / triangle / cross) x stripes
                          (horizontal / vertical) of the object's two colours

Per clip, everything else is random: the centre pitch (log-uniform 300-1200 Hz; a glide spans
+-1 octave/s around it, so rising and falling sounds cover the same frequencies), the glide
rate, the tremolo rate, the timbre, the event times, the loudness, the noise, a distractor
tone; the object's two colours, stripe period, size and path; the background and a silent
grey distractor shape. Mean colour and mean spectrum therefore say nothing about the
category (tests/demo/test_categories.py checks it); the category is read from the sound's
pitch movement, amplitude modulation and rhythm, or from the object's shape and stripes.

Clip ``i`` has category ``i % 8`` and draws everything from
``numpy.random.default_rng((seed, index, ...))``, as in :mod:`mavil.demo.generator`, whose
:func:`~mavil.demo.generator.generate` writes the files (``CategoryDataConfig`` selects this
kind).
"""
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Union

import numpy as np

from .melody import NUM_HARMONICS, SHAPES, ClipDraws, DemoDataConfig, is_test
from .render import (_bounce, _envelope, _shape_mask, scene, sound_bed,
                     write_rendered)

GLIDES = ('rising', 'falling')
TREMOLOS = ('steady', 'tremolo')
RHYTHMS = {'long': (0.9, 0.9), 'short': (0.45, 0.45, 0.45, 0.45)}  # event lengths, s
OBJECT_SHAPES = SHAPES  # disc, square, triangle, cross
STRIPES = ('horizontal', 'vertical')
SOUND_PATTERNS = tuple((g, t, r) for r in RHYTHMS for t in TREMOLOS for g in GLIDES)
PICTURE_PATTERNS = tuple((s, o) for o in STRIPES for s in OBJECT_SHAPES)
# category c sounds SOUND_PATTERNS[c] and shows PICTURE_PATTERNS[PICTURE_OF[c]]
PICTURE_OF = (5, 2, 7, 0, 3, 6, 1, 4)
NUM_CLASSES = len(SOUND_PATTERNS)
CLASS_NAMES = tuple(f'category_{c}' for c in range(NUM_CLASSES))
GLIDE_RANGE = (12.0, 24.0)  # semitones per second, drawn per clip
TREMOLO_RANGE = (8.0, 12.0)  # Hz
TREMOLO_DEPTH = 0.9
VERSION = 1  # bump when the rendering changes: existing data is then regenerated


@dataclass(frozen=True)
class CategoryDataConfig(DemoDataConfig):
    """:class:`~mavil.demo.melody.DemoDataConfig` of the ``category`` kind (same fields)."""
    kind: str = 'category'
    version: int = field(default=VERSION)

    classes: ClassVar[tuple] = CLASS_NAMES

    def draw(self, index: int) -> 'CategoryClipSpec':
        return draw_clip(index, self)


@dataclass(frozen=True)
class CategoryClipSpec(ClipDraws):
    """The random draws of one category clip (written to ``clips.csv``)."""
    events: tuple  # ((start s, stop s), ...) of the sounds
    centre_pitch: float  # Hz, pitch at the middle of each event
    glide: float  # semitones per second, signed (> 0 rising)
    tremolo_hz: float  # 0: steady
    harmonics: tuple  # amplitudes of harmonics 1..NUM_HARMONICS
    loudness: float  # peak amplitude of the sounds
    colours: tuple  # the object's two stripe colours (RGB)
    stripe_period: float  # px
    radius: float  # px
    x0: float
    y0: float
    vx: float  # px / s
    vy: float
    distractor_freq: float  # Hz
    distractor_onset: float
    noise_std: float

    @property
    def sound_pattern(self) -> tuple:
        return SOUND_PATTERNS[self.label]

    @property
    def picture_pattern(self) -> tuple:
        return PICTURE_PATTERNS[PICTURE_OF[self.label]]


def _event_times(rng: np.random.Generator, lengths: tuple, duration: float) -> tuple:
    """Non-overlapping events in random order and gaps (at least 0.1 s apart and from the
    clip's ends)."""
    slack = duration - sum(lengths) - 0.1 * (len(lengths) + 1)
    cuts = np.sort(rng.uniform(0, slack, len(lengths)))  # extra gap before each event
    events, t = [], 0.1
    for cut, prev_cut, length in zip(cuts, np.concatenate([[0.0], cuts[:-1]]), lengths):
        t += cut - prev_cut
        events.append((round(float(t), 4), round(float(t + length), 4)))
        t += length + 0.1
    return tuple(events)


def draw_clip(index: int, cfg: CategoryDataConfig) -> CategoryClipSpec:
    """All random parameters of clip ``index``."""
    rng = np.random.default_rng((cfg.seed, index))
    label = index % NUM_CLASSES
    glide, tremolo, rhythm = SOUND_PATTERNS[label]
    events = _event_times(rng, RHYTHMS[rhythm], cfg.duration)
    rate = rng.uniform(*GLIDE_RANGE) * (1 if glide == 'rising' else -1)
    harmonics = rng.uniform(0, 1, NUM_HARMONICS) * rng.uniform(0.3, 0.9) ** np.arange(
        NUM_HARMONICS)
    harmonics[rng.integers(NUM_HARMONICS)] += 0.5
    radius = rng.uniform(0.12, 0.2) * cfg.size
    return CategoryClipSpec(
        index=index, label=label, split='test' if is_test(index, cfg) else 'train',
        events=events,
        centre_pitch=float(math.exp(rng.uniform(math.log(300), math.log(1200)))),
        glide=float(rate),
        tremolo_hz=float(rng.uniform(*TREMOLO_RANGE)) if tremolo == 'tremolo' else 0.0,
        harmonics=tuple(round(float(h), 4) for h in harmonics),
        loudness=float(rng.uniform(0.15, 0.6)),
        colours=tuple(tuple(int(c) for c in rng.integers(40, 256, 3)) for _ in range(2)),
        stripe_period=float(rng.uniform(5, 8) * cfg.size / 64),
        radius=float(radius),
        x0=float(rng.uniform(radius + 1, cfg.size - radius - 1)),
        y0=float(rng.uniform(radius + 1, cfg.size - radius - 1)),
        vx=float(rng.uniform(-10, 10) * cfg.size / 64),
        vy=float(rng.uniform(-10, 10) * cfg.size / 64),
        distractor_freq=float(math.exp(rng.uniform(math.log(200), math.log(3000)))),
        distractor_onset=float(rng.uniform(0, cfg.duration - 0.5)),
        noise_std=float(rng.uniform(*cfg.noise_range)))


def object_track(spec: CategoryClipSpec, t: np.ndarray, cfg: DemoDataConfig) -> tuple:
    """Centre ``(x, y)`` in px of the object (visible at all times) at times ``t``."""
    return (_bounce(spec.x0 + spec.vx * t, spec.radius, cfg.size - spec.radius),
            _bounce(spec.y0 + spec.vy * t, spec.radius, cfg.size - spec.radius))


def render_video(spec: CategoryClipSpec, cfg: DemoDataConfig) -> np.ndarray:
    """uint8 RGB frames ``[T, H, W, 3]``."""
    rng, t, frames, yy, xx = scene(spec, cfg)
    shape, stripes = spec.picture_pattern
    x, y = object_track(spec, t, cfg)
    colours = np.array(spec.colours, dtype=np.float32)  # [2, 3]
    phase = rng.uniform(0, spec.stripe_period)
    for i in range(len(t)):  # the object, drawn over the distractor
        mask = _shape_mask(shape, yy, xx, x[i], y[i], spec.radius)
        # stripes move with the object: coordinates relative to its centre
        along = (yy - y[i]) if stripes == 'horizontal' else (xx - x[i])
        which = (np.floor((along + phase) / (spec.stripe_period / 2)) % 2).astype(int)
        frames[i][mask] = colours[which[mask]]
    return np.clip(frames, 0, 255).astype(np.uint8)


def render_audio(spec: CategoryClipSpec, cfg: DemoDataConfig) -> np.ndarray:
    """float32 mono waveform ``[1, S]`` in [-1, 1]."""
    rng, t, wave = sound_bed(spec, cfg)
    sr = cfg.sample_rate
    amp = spec.loudness / sum(spec.harmonics)
    if spec.tremolo_hz:  # same mean power as a steady sound: E[(1 - d + d m)^2] scaled to 1
        rms = math.sqrt((1 - TREMOLO_DEPTH / 2) ** 2 + TREMOLO_DEPTH ** 2 / 8)
        amp /= rms
    harmonics = np.arange(1, NUM_HARMONICS + 1)[:, None]  # [H, 1]
    for start, stop in spec.events:
        lo, hi = int(start * sr), min(int(math.ceil(stop * sr)) + 1, len(t))
        tn = t[lo:hi]
        mid = (start + stop) / 2
        # pitch glides exponentially through centre_pitch at the event's middle
        semis = spec.glide * (tn - mid)
        pitch = spec.centre_pitch * 2 ** (semis / 12)  # [S]
        phase = 2 * math.pi * np.cumsum(pitch) / sr  # instantaneous phase of the fundamental
        offsets = rng.uniform(0, 2 * math.pi, (NUM_HARMONICS, 1))
        weights = np.array(spec.harmonics)[:, None] * (pitch[None] * harmonics < sr / 2)
        tone = (weights * np.sin(harmonics * phase + offsets)).sum(0)  # [S]
        env = _envelope(tn, start, stop, ramp=0.02)
        if spec.tremolo_hz:
            mod = 0.5 * (1 + np.sin(2 * math.pi * spec.tremolo_hz * (tn - start)))
            env = env * (1 - TREMOLO_DEPTH + TREMOLO_DEPTH * mod)
        wave[lo:hi] += amp * env * tone
    return np.clip(wave, -1, 1).astype(np.float32)[None]


def write_clip(spec: CategoryClipSpec, cfg: DemoDataConfig, root: Union[str, Path]) -> Path:
    return write_rendered(spec, cfg, root, render_video, render_audio)
