"""Built-in demo dataset: short .mp4 clips in which a *sounding object* plays a short melody.

Each clip shows one object over a textured background with a silent grey distractor and plays
a 4-note melody over background noise and an unrelated distractor tone. The class is the
melody's *pattern*, never a colour or a pitch::

    class (8)         sound                                  picture
    contour (4)       rising / falling / arch / valley        the object's height follows the
                      (note levels 0123, 3210, 0231, 3102)    melody: one level up per step
    rhythm (2)        even (4 equal notes) or                 even: disc, dotted: cross
                      dotted (long-short-long-short)

Per clip, everything else is random: the base pitch (log-uniform 220-880 Hz), the interval per
contour level (2-4 semitones), the timbre (amplitudes of 6 harmonics), the tempo, the onset,
the object's colour (any saturated hue), size, horizontal path, the background, the distractor
shape and path, the distractor tone (frequency, time) and the noise level. So raw colour and
pitch statistics say nothing about the class (a random-init network's probes sit near chance);
what is shared by sound and picture is *synchrony*: the object is visible exactly while the
melody plays, it jumps when a note changes, its height is the note's level, its jump size is
the interval, and bigger objects are louder. Everything comes from
``numpy.random.default_rng((seed, index, ...))``, so a clip depends only on the seed and its
index, not on the number of worker processes.

Files go to ``ROOT/clips/clip_XXXX.mp4`` (H.264 + AAC, 16 kHz mono), with
``ROOT/annotations.csv`` (``filename,labels,split`` for :class:`mavil.datasets.AVDataset`),
``ROOT/clips.csv`` (every generated parameter, for tests and inspection) and
``ROOT/COMPLETE`` (the generation settings; its absence or a mismatch means regenerate).

    python -m mavil.demo.generator data/demo --num-clips 640
"""
import argparse
import colorsys
import csv
import json
import math
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Union

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
VERSION = 3  # bump when the rendering changes: existing data is then regenerated


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
    num_clips: int = 640
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


@dataclass(frozen=True)
class ClipSpec:
    """The random draws of one clip (written to ``clips.csv``)."""
    index: int
    label: int
    split: str
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
    def filename(self) -> str:
        return f'clips/clip_{self.index:04d}.mp4'

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
    hue, sat, val = rng.uniform(0, 1), rng.uniform(0.6, 1.0), rng.uniform(0.75, 1.0)
    colour = tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, sat, val))
    radius = rng.uniform(MIN_RADIUS, MAX_RADIUS) * cfg.size
    step = int(rng.integers(2, 5))  # 2, 3 or 4 semitones per level
    room = cfg.size - 2 * radius - 2  # vertical travel available for 3 levels
    step_px = room / 3 * step / 4  # bigger intervals, bigger jumps
    y0 = cfg.size - radius - 1 - rng.uniform(0, room - 3 * step_px)  # level 0 (lowest) height
    harmonics = rng.uniform(0, 1, NUM_HARMONICS) * rng.uniform(0.3, 0.9) ** np.arange(
        NUM_HARMONICS)
    harmonics[rng.integers(NUM_HARMONICS)] += 0.5  # one strong partial: timbres differ
    return ClipSpec(
        index=index, label=label, split='test' if is_test(index, cfg) else 'train',
        notes=tuple(notes), base_pitch=float(math.exp(rng.uniform(math.log(220), math.log(880)))),
        step=step, harmonics=tuple(round(float(h), 4) for h in harmonics), colour=colour,
        radius=float(radius), x0=float(rng.uniform(radius + 1, cfg.size - radius - 1)),
        vx=float(rng.uniform(-10, 10) * cfg.size / 64), y0=float(y0), step_px=float(step_px),
        distractor_freq=float(math.exp(rng.uniform(math.log(200), math.log(3000)))),
        distractor_onset=float(rng.uniform(0, cfg.duration - 0.5)),
        noise_std=float(rng.uniform(*cfg.noise_range)))


# ------------------------------------------------------------------------------- rendering
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


def render_video(spec: ClipSpec, cfg: DemoDataConfig) -> np.ndarray:
    """uint8 RGB frames ``[T, H, W, 3]``."""
    rng = np.random.default_rng((cfg.seed, spec.index, 1))
    n, s = int(round(cfg.duration * cfg.fps)), cfg.size
    t = np.arange(n) / cfg.fps
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    # background: a dim random gradient plus static texture
    c0, c1 = rng.uniform(10, 90, 3), rng.uniform(10, 90, 3)
    ramp = (xx * math.cos(rng.uniform(0, 6.3)) + yy * math.sin(rng.uniform(0, 6.3))) / s
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    background = c0 + (c1 - c0) * ramp[..., None]
    background += rng.normal(0, 6, (s, s, 1))
    frames = np.repeat(background[None], n, axis=0).astype(np.float32)  # [T, H, W, 3]
    # silent distractor: a grey shape of random kind drifting across, always visible
    d_shape = SHAPES[rng.integers(len(SHAPES))]
    d_r = rng.uniform(0.1, 0.15) * s
    d_grey = rng.uniform(90, 170)
    d_p0, d_v = rng.uniform(d_r, s - d_r, 2), rng.normal(0, 8, 2) * s / 64
    d_x = _bounce(d_p0[0] + d_v[0] * t, d_r, s - d_r)
    d_y = _bounce(d_p0[1] + d_v[1] * t, d_r, s - d_r)
    # the sounding object
    x, y, visible = object_track(spec, t, cfg)
    shape = CLASSES[spec.label].shape
    colour = np.array(spec.colour, dtype=np.float32)
    for i in range(n):
        frames[i][_shape_mask(d_shape, yy, xx, d_x[i], d_y[i], d_r)] = d_grey
        if visible[i]:
            frames[i][_shape_mask(shape, yy, xx, x[i], y[i], spec.radius)] = colour
    return np.clip(frames, 0, 255).astype(np.uint8)


def render_audio(spec: ClipSpec, cfg: DemoDataConfig) -> np.ndarray:
    """float32 mono waveform ``[1, S]`` in [-1, 1]."""
    rng = np.random.default_rng((cfg.seed, spec.index, 2))
    sr = cfg.sample_rate
    t = np.arange(int(round(cfg.duration * sr))) / sr
    wave = rng.normal(0, spec.noise_std, t.shape)  # background noise
    # distractor: a short tone at a random frequency and time, unrelated to the picture
    d_len = 0.4
    d_env = _envelope(t, spec.distractor_onset, spec.distractor_onset + d_len)
    wave += 0.15 * d_env * np.sin(2 * math.pi * spec.distractor_freq * t)
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


def write_clip(spec: ClipSpec, cfg: DemoDataConfig, root: Union[str, Path]) -> Path:
    # imported here so that rendering (and the tests of it) does not need PyAV
    from mavil.datasets.media_writer import write_av_clip
    return write_av_clip(Path(root) / spec.filename, frames=render_video(spec, cfg),
                         fps=cfg.fps, waveform=render_audio(spec, cfg),
                         sample_rate=cfg.sample_rate, crf=20, faststart=True)


def _write_one(args: tuple) -> int:
    spec, cfg, root = args
    write_clip(spec, cfg, root)
    return spec.index


# ---------------------------------------------------------------------------- dataset API
def is_complete(root: Union[str, Path], cfg: DemoDataConfig) -> bool:
    """True when ``root`` holds a finished dataset generated with exactly ``cfg``."""
    stamp = Path(root) / 'COMPLETE'
    return stamp.is_file() and stamp.read_text().strip() == cfg.to_json()


def generate(root: Union[str, Path], cfg: DemoDataConfig = DemoDataConfig(), *,
             workers: Optional[int] = None, progress: bool = True) -> Path:
    """Write the dataset to ``root`` (replacing an incomplete or different one).

    Returns the annotation file.
    """
    root = Path(root)
    if cfg.num_clips < 2 * NUM_CLASSES:
        raise ValueError(f'num_clips must be at least {2 * NUM_CLASSES} (two per class)')
    if root.exists():
        shutil.rmtree(root / 'clips', ignore_errors=True)
        (root / 'COMPLETE').unlink(missing_ok=True)
    (root / 'clips').mkdir(parents=True, exist_ok=True)
    specs = [draw_clip(i, cfg) for i in range(cfg.num_clips)]
    workers = workers or min(os.cpu_count() or 1, 4)
    jobs = [(spec, cfg, root) for spec in specs]
    bar = _progress(len(jobs), 'demo clips', progress)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(_write_one, jobs, chunksize=8):
                bar.update(1)
    else:
        for job in jobs:
            _write_one(job)
            bar.update(1)
    bar.close()
    ann_file = root / 'annotations.csv'
    with open(ann_file, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['filename', 'labels', 'split'])
        for spec in specs:
            writer.writerow([spec.filename, CLASS_NAMES[spec.label], spec.split])
    with open(root / 'clips.csv', 'w', newline='') as f:
        rows = [asdict(s) for s in specs]
        writer = csv.DictWriter(f, fieldnames=['filename', 'class_name', *rows[0]])
        writer.writeheader()
        for spec, row in zip(specs, rows):
            for key in ('colour', 'notes', 'harmonics'):
                row[key] = json.dumps(row[key])
            writer.writerow(dict(row, filename=spec.filename, class_name=CLASS_NAMES[spec.label]))
    (root / 'COMPLETE').write_text(cfg.to_json() + '\n')
    return ann_file


def ensure_dataset(root: Union[str, Path], cfg: DemoDataConfig = DemoDataConfig(), *,
                   workers: Optional[int] = None, progress: bool = True) -> Path:
    """Generate the dataset unless ``root`` already holds it; returns the annotation file."""
    if is_complete(root, cfg):
        return Path(root) / 'annotations.csv'
    return generate(root, cfg, workers=workers, progress=progress)


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit='clip', disable=not enabled, dynamic_ncols=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='Write the built-in MAViL demo dataset')
    parser.add_argument('root', nargs='?', default='data/demo')
    parser.add_argument('--num-clips', type=int, default=DemoDataConfig.num_clips)
    parser.add_argument('--seed', type=int, default=DemoDataConfig.seed)
    parser.add_argument('--workers', type=int, default=None)
    parser.add_argument('--force', action='store_true', help='regenerate even if complete')
    args = parser.parse_args(argv)
    cfg = DemoDataConfig(num_clips=args.num_clips, seed=args.seed)
    gen = generate if args.force else ensure_dataset
    print(gen(args.root, cfg, workers=args.workers))


if __name__ == '__main__':
    main()
