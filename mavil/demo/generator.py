"""Built-in demo dataset: short .mp4 clips whose sound is tied to what is shown, and when.

Each clip shows one *sounding object* of one of ``K = 8`` classes for part of the clip, over
a textured background with a silent grey distractor, and plays that class's sound exactly
while the object is visible, over background noise and an unrelated distractor tone::

    class              picture                      sound
    red_disc           red disc                     260 Hz tone, rich harmonics, steady
    orange_square      orange square, blinking      370 Hz tone, hollow timbre, 6 Hz pulses
    ...                (one hue and shape a class)  (one pitch a class, ~0.5 octave apart)
    magenta_cross      magenta cross, blinking      2960 Hz tone, hollow timbre, 6 Hz pulses

So the audio carries *what* is shown (pitch and timbre <-> colour and shape, pulses <->
blinking) and *when* (sound onset and offset = the object's appearance and disappearance).
Per clip, the object's position, velocity, size, shade, pitch (+-4 %), onset and duration are
random; so are the background, the distractor shape and path, the distractor tone
(frequency, time) and the noise level. Everything comes from
``numpy.random.default_rng((seed, index, ...))``, so a clip depends only on the seed and its
index, not on the number of worker processes.

Files go to ``ROOT/clips/clip_XXXX.mp4`` (H.264 + AAC, 16 kHz mono), with
``ROOT/annotations.csv`` (``filename,labels,split`` for :class:`mavil.datasets.AVDataset`),
``ROOT/clips.csv`` (every generated parameter, for tests and inspection) and
``ROOT/COMPLETE`` (the generation settings; its absence or a mismatch means regenerate).

    python -m mavil.demo.generator data/demo --num-clips 640
"""
import argparse
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

SHAPES = ('disc', 'square', 'triangle', 'cross')


@dataclass(frozen=True)
class SoundingClass:
    name: str
    rgb: tuple  # object colour
    shape: str
    pitch: float  # Hz, fundamental of the sound
    pulsed: bool  # sound in 6 Hz pulses and the object blinks at 1 Hz


CLASSES = (
    SoundingClass('red_disc', (230, 40, 40), 'disc', 260.0, False),
    SoundingClass('orange_square', (245, 140, 20), 'square', 370.0, True),
    SoundingClass('yellow_triangle', (235, 225, 40), 'triangle', 520.0, False),
    SoundingClass('green_cross', (40, 200, 60), 'cross', 740.0, True),
    SoundingClass('cyan_disc', (40, 220, 230), 'disc', 1050.0, False),
    SoundingClass('blue_square', (50, 90, 245), 'square', 1480.0, True),
    SoundingClass('purple_triangle', (150, 60, 230), 'triangle', 2100.0, False),
    SoundingClass('magenta_cross', (235, 50, 180), 'cross', 2960.0, True),
)
NUM_CLASSES = len(CLASSES)
CLASS_NAMES = tuple(c.name for c in CLASSES)
HARMONICS = {False: (1.0, 0.5, 0.33, 0.25), True: (1.0, 0.0, 0.6, 0.0, 0.35)}  # by pulsed
PULSE_HZ = 6.0
MIN_RADIUS, MAX_RADIUS = 0.17, 0.3  # object radius, fraction of the frame size


def loudness(radius: float) -> float:
    """Peak amplitude of the object's sound: bigger objects are louder (0.15 ... 0.6)."""
    return 0.15 + 0.45 * (radius - MIN_RADIUS) / (MAX_RADIUS - MIN_RADIUS)

BLINK_HZ = 1.0
VERSION = 2  # bump when the rendering changes: existing data is then regenerated


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
        min_visible, max_visible: seconds the object (and its sound) lasts.
        noise_range: background noise standard deviation, drawn per clip.
    """
    num_clips: int = 640
    test_fraction: float = 0.25
    duration: float = 4.0
    fps: float = 4.0
    size: int = 64
    sample_rate: int = 16000
    seed: int = 0
    min_visible: float = 0.8
    max_visible: float = 3.0
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
    onset: float  # s, object appears and its sound starts
    offset: float  # s, object disappears and its sound stops
    pitch: float  # Hz, fundamental of the class sound
    colour: tuple
    radius: float  # px
    x0: float
    y0: float
    vx: float  # px / s
    vy: float
    distractor_freq: float  # Hz
    distractor_onset: float
    noise_std: float

    @property
    def filename(self) -> str:
        return f'clips/clip_{self.index:04d}.mp4'


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
    visible = rng.uniform(cfg.min_visible, cfg.max_visible)
    onset = rng.uniform(0.1, cfg.duration - visible - 0.1)
    colour = tuple(int(c) for c in np.clip(np.array(cls.rgb) + rng.normal(0, 10, 3), 0, 255))
    radius = rng.uniform(MIN_RADIUS, MAX_RADIUS) * cfg.size
    margin = radius + 1
    x0, y0 = rng.uniform(margin, cfg.size - margin, 2)
    speed = rng.uniform(4, 14) * cfg.size / 64
    angle = rng.uniform(0, 2 * math.pi)
    return ClipSpec(
        index=index, label=label, split='test' if is_test(index, cfg) else 'train',
        onset=round(float(onset), 4), offset=round(float(onset + visible), 4),
        pitch=float(cls.pitch * rng.uniform(0.96, 1.04)),
        colour=colour, radius=float(radius), x0=float(x0), y0=float(y0),
        vx=float(speed * math.cos(angle)), vy=float(speed * math.sin(angle)),
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
    shape, blink = CLASSES[spec.label].shape, CLASSES[spec.label].pulsed
    x = _bounce(spec.x0 + spec.vx * t, spec.radius, s - spec.radius)
    y = _bounce(spec.y0 + spec.vy * t, spec.radius, s - spec.radius)
    colour = np.array(spec.colour, dtype=np.float32)
    for i, ti in enumerate(t):
        frames[i][_shape_mask(d_shape, yy, xx, d_x[i], d_y[i], d_r)] = d_grey
        if spec.onset <= ti < spec.offset:
            shade = 1.0 if not blink or int((ti - spec.onset) * 2 * BLINK_HZ) % 2 == 0 else 0.55
            frames[i][_shape_mask(shape, yy, xx, x[i], y[i], spec.radius)] = colour * shade
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
    # the object's sound: class timbre (harmonics) and rhythm, only while it is visible
    pulsed = CLASSES[spec.label].pulsed
    harmonics = HARMONICS[pulsed]
    tone = sum(a * np.sin(2 * math.pi * spec.pitch * (h + 1) * t + rng.uniform(0, 6.3))
               for h, a in enumerate(harmonics) if a > 0 and spec.pitch * (h + 1) < sr / 2)
    tone /= sum(harmonics)
    env = _envelope(t, spec.onset, spec.offset)
    if pulsed:
        env = env * (np.sin(2 * math.pi * PULSE_HZ * (t - spec.onset)) > 0)
    wave += loudness(spec.radius / cfg.size) * env * tone
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
            row['colour'] = ' '.join(map(str, row['colour']))
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
