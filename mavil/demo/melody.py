"""The ``melody`` kind of demo clip: a *sounding object* plays a short melody.

Each clip shows one object over a textured background with a silent grey distractor and plays
a 4-note melody over background noise and an unrelated distractor tone. The class is the
melody's *pattern*, never a colour or a pitch::

    class (8)         sound                                  picture
    contour (4)       rising / falling / arch / valley        the object's height follows the
                      (note levels 0123, 3210, 0231, 3102)    melody's pitch
    rhythm (2)        even (4 equal notes) or                 even: disc, dotted: cross
                      dotted (long-short-long-short)

Per clip, everything else is random: the base pitch (log-uniform 220-880 Hz), the interval per
contour level (2-4 semitones), the timbre (amplitudes of 6 harmonics), the tempo, the onset,
the object's size and horizontal path, the background, the distractor shape and path, the
distractor tone (frequency, time) and the noise level. So raw colour and pitch statistics say
nothing about the class (a random-init network's probes sit near chance). What sound and
picture share, clip by clip, is what a sounding object shares with its sound: the object's
hue follows the base pitch (red low ... violet high), its height is the pitch of the note
playing (higher notes, higher on screen: it jumps when a note changes, further for bigger
intervals), it is visible exactly while the melody plays, and bigger objects are louder.
Everything comes from ``numpy.random.default_rng((seed, index, ...))``, so a clip depends
only on the seed and its index, not on the number of worker processes.

:mod:`mavil.demo.render` draws and writes a clip; :mod:`mavil.demo.generator` writes the
dataset.
"""
import colorsys
import json
import math
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np

SHAPES = ('disc', 'square', 'triangle', 'cross')  # all may be drawn as the grey distractor
# Note levels of the 4 notes of each contour; level L sounds L * step semitones above the base
# pitch and puts the object L * step_px higher on screen.
CONTOURS = {'rising': (0, 1, 2, 3), 'falling': (3, 2, 1, 0), 'arch': (0, 2, 3, 1),
            'valley': (3, 1, 0, 2)}
# Note durations in beats; gaps between notes are 0.2 s at any tempo: longer than one 16-frame
# audio patch (0.16 s), so no patch holds two notes and the order of the notes is not visible
# in any single patch.
RHYTHMS = {'even': (1.0, 1.0, 1.0, 1.0), 'dotted': (1.5, 0.5, 1.5, 0.5)}
RHYTHM_SHAPE = {'even': 'disc', 'dotted': 'cross'}
NOTE_GAP = 0.2  # s
NUM_HARMONICS = 6


@dataclass(frozen=True)
class SoundingClass:
    contour: str
    rhythm: str

    @property
    def name(self) -> str:
        return f'{self.contour}_{self.rhythm}'

    @property
    def levels(self) -> tuple:
        return CONTOURS[self.contour]

    @property
    def beats(self) -> tuple:
        return RHYTHMS[self.rhythm]

    @property
    def shape(self) -> str:
        return RHYTHM_SHAPE[self.rhythm]


CLASSES = tuple(SoundingClass(c, r) for r in RHYTHMS for c in CONTOURS)
NUM_CLASSES = len(CLASSES)
CLASS_NAMES = tuple(c.name for c in CLASSES)
MIN_RADIUS, MAX_RADIUS = 0.12, 0.2  # object radius, fraction of the frame size
LOWEST_PITCH, HIGHEST_BASE = 220.0, 880.0  # Hz: base pitch range (2 octaves)
PITCH_OCTAVES = 3  # octaves a melody can reach: base range + up to 3 levels x 4 semitones
VERSION = 4  # bump when the rendering changes: existing data is then regenerated


def loudness(radius: float) -> float:
    """Peak amplitude of the object's sound: bigger objects are louder (0.15 ... 0.6)."""
    return 0.15 + 0.45 * (radius - MIN_RADIUS) / (MAX_RADIUS - MIN_RADIUS)


@dataclass(frozen=True)
class DemoDataConfig:
    """Settings of the generated dataset (all deterministic given ``seed``).

    Args:
        num_clips: clips in total; classes are balanced (``index % K``).
        test_fraction: share of every class held out as the test split.
        duration: seconds per clip.
        fps: video frame rate of the files.
        size: frame height = width in pixels.
        sample_rate: audio rate of the files (Hz).
        seed: base seed; clip ``i`` uses ``default_rng((seed, i))``.
        beat_range: seconds per beat (tempo), drawn per clip.
        noise_range: background noise standard deviation, drawn per clip.
    """
    num_clips: int = 1280
    test_fraction: float = 0.25
    duration: float = 4.0
    fps: float = 4.0
    size: int = 64
    sample_rate: int = 16000
    seed: int = 0
    beat_range: tuple = (0.5, 0.65)
    noise_range: tuple = (0.01, 0.05)
    version: int = field(default=VERSION)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    classes: ClassVar[tuple] = CLASS_NAMES  # the kind's class names, by label

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def class_names(self) -> tuple:
        return self.classes

    def draw(self, index: int) -> 'ClipSpec':
        """The random draws of clip ``index``."""
        return draw_clip(index, self)


@dataclass(frozen=True)
class ClipDraws:
    """What a clip of every kind draws first: its index, class and split."""
    index: int
    label: int
    split: str

    @property
    def filename(self) -> str:
        return f'clips/clip_{self.index:04d}.mp4'


@dataclass(frozen=True)
class ClipSpec(ClipDraws):
    """The random draws of one melody clip (written to ``clips.csv``)."""
    notes: tuple  # ((start s, stop s, level), ...) of the 4 notes
    base_pitch: float  # Hz, pitch of level 0
    step: int  # semitones per level
    harmonics: tuple  # amplitudes of harmonics 1..NUM_HARMONICS (the timbre)
    colour: tuple
    radius: float  # px
    x0: float
    vx: float  # px / s
    y0: float  # px, centre height at level 0 (lowest)
    step_px: float  # px the object rises per level
    distractor_freq: float  # Hz
    distractor_onset: float
    noise_std: float

    @property
    def onset(self) -> float:
        """s, the first note starts and the object appears."""
        return self.notes[0][0]

    @property
    def offset(self) -> float:
        """s, the last note stops and the object disappears."""
        return self.notes[-1][1]

    def pitch(self, level: int) -> float:
        return self.base_pitch * 2 ** (level * self.step / 12)

    def level_at(self, t: np.ndarray) -> np.ndarray:
        """Level of the latest note started at or before ``t`` (held through the gaps)."""
        starts = np.array([n[0] for n in self.notes])
        levels = np.array([n[2] for n in self.notes])
        return levels[np.clip(np.searchsorted(starts, t, side='right') - 1, 0, None)]


def is_test(index: int, cfg: DemoDataConfig) -> bool:
    """Every class has ``round(test_fraction * per_class)`` test clips (its last ones)."""
    per_class = cfg.num_clips // NUM_CLASSES
    rank = index // NUM_CLASSES  # position of the clip within its class
    n_test = max(1, round(cfg.test_fraction * per_class)) if per_class > 1 else 0
    return rank >= per_class - n_test and index < per_class * NUM_CLASSES


def draw_clip(index: int, cfg: DemoDataConfig) -> ClipSpec:
    """All random parameters of clip ``index``."""
    rng = np.random.default_rng((cfg.seed, index))
    label = index % NUM_CLASSES
    cls = CLASSES[label]
    beat = rng.uniform(*cfg.beat_range)
    lengths = [b * beat for b in cls.beats]
    total = sum(lengths) + NOTE_GAP * (len(lengths) - 1)
    start = rng.uniform(0.1, cfg.duration - total - 0.1)
    notes = []
    for length, level in zip(lengths, cls.levels):
        notes.append((round(float(start), 4), round(float(start + length), 4), int(level)))
        start += length + NOTE_GAP
    base_pitch = float(math.exp(rng.uniform(math.log(LOWEST_PITCH), math.log(HIGHEST_BASE))))
    octaves = math.log2(base_pitch / LOWEST_PITCH)  # 0 ... 2
    # the object's hue follows the base pitch (low: red ... high: violet)
    hue, sat, val = 0.8 * octaves / 2, rng.uniform(0.6, 1.0), rng.uniform(0.75, 1.0)
    colour = tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, sat, val))
    radius = rng.uniform(MIN_RADIUS, MAX_RADIUS) * cfg.size
    step = int(rng.integers(2, 5))  # 2, 3 or 4 semitones per level
    # the object's height is the note's pitch: the PITCH_OCTAVES a melody can reach span
    # the frame's vertical travel, so bigger intervals make bigger jumps
    room = cfg.size - 2 * radius - 2
    step_px = room * step / 12 / PITCH_OCTAVES
    y0 = cfg.size - radius - 1 - room * octaves / PITCH_OCTAVES  # level 0 (lowest) height
    harmonics = rng.uniform(0, 1, NUM_HARMONICS) * rng.uniform(0.3, 0.9) ** np.arange(
        NUM_HARMONICS)
    harmonics[rng.integers(NUM_HARMONICS)] += 0.5  # one strong partial: timbres differ
    return ClipSpec(
        index=index, label=label, split='test' if is_test(index, cfg) else 'train',
        notes=tuple(notes), base_pitch=base_pitch,
        step=step, harmonics=tuple(round(float(h), 4) for h in harmonics), colour=colour,
        radius=float(radius), x0=float(rng.uniform(radius + 1, cfg.size - radius - 1)),
        vx=float(rng.uniform(-10, 10) * cfg.size / 64), y0=float(y0), step_px=float(step_px),
        distractor_freq=float(math.exp(rng.uniform(math.log(200), math.log(3000)))),
        distractor_onset=float(rng.uniform(0, cfg.duration - 0.5)),
        noise_std=float(rng.uniform(*cfg.noise_range)))
