"""Built-in demo dataset: short .mp4 clips in which a *sounding object* plays a short melody.

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

Files go to ``ROOT/clips/clip_XXXX.mp4`` (H.264 + AAC, 16 kHz mono), with
``ROOT/annotations.csv`` (``filename,labels,split`` for :class:`mavil.datasets.AVDataset`),
``ROOT/clips.csv`` (every generated parameter, for tests and inspection),
``ROOT/COMPLETE`` (the generation settings; its absence or a mismatch means regenerate) and
``ROOT/DEMO_DATASET`` (written first, JSON: the files the generator writes; only those are ever
deleted or replaced, and a non-empty folder without it is never written to).

    python -m mavil.demo.generator data/demo --num-clips 1280

This is the ``melody`` kind; :mod:`mavil.demo.categories` is a second kind (``--kind
category``) whose modalities share only a category. :func:`generate` writes either.
"""
import argparse
import colorsys
import csv
import json
import math
import os
import re
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

    @property
    def num_classes(self) -> int:
        return NUM_CLASSES

    @property
    def class_names(self) -> tuple:
        return CLASS_NAMES

    def draw(self, index: int) -> 'ClipSpec':
        """The random draws of clip ``index``."""
        return draw_clip(index, self)

    def write(self, spec: 'ClipSpec', root: Union[str, Path]) -> Path:
        """Render ``spec`` and write its .mp4 under ``root``."""
        from .render import write_clip  # rendering imports this module's specs
        return write_clip(spec, self, root)


DATA_KINDS = ('melody', 'category')  # 'category': mavil/demo/categories.py


def data_config(kind: str = 'melody', **settings) -> DemoDataConfig:
    """The dataset settings of ``kind`` (``settings``: :class:`DemoDataConfig` fields)."""
    if kind == 'melody':
        return DemoDataConfig(**settings)
    if kind == 'category':
        from .categories import CategoryDataConfig
        return CategoryDataConfig(**settings)
    raise ValueError(f'unknown demo data kind {kind!r}; choose from {DATA_KINDS}')


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


def _write_one(args: tuple) -> int:
    spec, cfg, root = args
    cfg.write(spec, root)
    return spec.index


# ---------------------------------------------------------------------------- dataset API
MARKER = 'DEMO_DATASET'  # JSON list of the files the generator wrote: all it may delete
_OWN_FILES = ('annotations.csv', 'clips.csv', 'COMPLETE')


def is_complete(root: Union[str, Path], cfg: DemoDataConfig) -> bool:
    """True when ``root`` holds a finished dataset generated with exactly ``cfg``."""
    stamp = Path(root) / 'COMPLETE'
    return stamp.is_file() and stamp.read_text().strip() == cfg.to_json()


def _own_files(cfg: DemoDataConfig) -> list:
    """Paths (relative to the root) that generating ``cfg`` writes, the marker aside."""
    return [*(f'clips/clip_{i:04d}.mp4' for i in range(cfg.num_clips)), *_OWN_FILES]


def _listed_files(root: Path) -> Optional[list]:
    """The files the marker says the generator wrote; None without a readable marker.

    Only names the generator can write are accepted, so a marker written by hand cannot point
    a deletion at any other file."""
    try:
        listed = json.loads((root / MARKER).read_text())['files']
    except (OSError, ValueError, TypeError, KeyError):
        return None
    valid = set(_OWN_FILES)
    return [name for name in listed if isinstance(name, str) and (
        name in valid or re.fullmatch(r'clips/clip_\d{4,}\.mp4', name))]


def _write_marker(root: Path, files: list) -> None:
    text = json.dumps({'written_by': 'mavil.demo.generator', 'note': 'the generator deletes '
                       'and rewrites exactly these files when its settings change',
                       'files': sorted(set(files))}, indent=1)
    (root / f'{MARKER}.part').write_text(text + '\n')
    os.replace(root / f'{MARKER}.part', root / MARKER)


def _clear_previous(root: Path, cfg: DemoDataConfig) -> None:
    """Delete the files an earlier generation listed in the marker, and nothing else.

    Raises FileExistsError for a non-empty folder without a valid marker, or when a file this
    generation would write exists and the marker does not list it (not the generator's)."""
    previous = _listed_files(root) if (root / MARKER).exists() else None
    if previous is None:
        if root.exists() and any(root.iterdir()):
            raise FileExistsError(
                f'{root} is not empty and holds no demo dataset ({MARKER} is missing or '
                f'lists no files, as from an older version): nothing is deleted; give the '
                f'demo an empty or new --data-root (or delete this folder yourself)')
        previous = []
    if (root / 'clips').is_symlink():
        raise FileExistsError(f'{root / "clips"} is a symlink: the generator writes only '
                              f'into a clips/ folder of its own; give a new --data-root')
    foreign = [name for name in _own_files(cfg)
               if name not in previous and (root / name).exists()]
    if foreign:
        raise FileExistsError(
            f'{root} holds {len(foreign)} file(s) the demo would write that its {MARKER} '
            f'does not list (e.g. {foreign[0]}): they are not the generator\'s and are not '
            f'overwritten; give the demo an empty or new --data-root')
    root.mkdir(parents=True, exist_ok=True)
    _write_marker(root, previous + _own_files(cfg))  # a superset while files change
    for name in previous:
        (root / name).unlink(missing_ok=True)


def generate(root: Union[str, Path], cfg: DemoDataConfig = DemoDataConfig(), *,
             workers: Optional[int] = None, progress: bool = True) -> Path:
    """Write the dataset to ``root`` (replacing an incomplete or different one).

    Only files listed in ``root/DEMO_DATASET`` (written by an earlier generation) are
    deleted or replaced; other files are left alone. Returns the annotation file.
    """
    root = Path(root)
    if cfg.num_clips < 2 * cfg.num_classes:
        raise ValueError(f'num_clips must be at least {2 * cfg.num_classes} (two per class)')
    _clear_previous(root, cfg)
    (root / 'clips').mkdir(parents=True, exist_ok=True)
    specs = [cfg.draw(i) for i in range(cfg.num_clips)]
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
            writer.writerow([spec.filename, cfg.class_names[spec.label], spec.split])
    with open(root / 'clips.csv', 'w', newline='') as f:
        rows = [asdict(s) for s in specs]
        writer = csv.DictWriter(f, fieldnames=['filename', 'class_name', *rows[0]])
        writer.writeheader()
        for spec, row in zip(specs, rows):
            for key, value in row.items():
                if isinstance(value, (tuple, list)):
                    row[key] = json.dumps(value)
            writer.writerow(dict(row, filename=spec.filename,
                                 class_name=cfg.class_names[spec.label]))
    (root / 'COMPLETE').write_text(cfg.to_json() + '\n')
    _write_marker(root, _own_files(cfg))
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
    parser.add_argument('--kind', choices=DATA_KINDS, default='melody',
                        help="'melody' (this module) or 'category' (mavil/demo/categories.py)")
    parser.add_argument('--workers', type=int, default=None)
    parser.add_argument('--force', action='store_true', help='regenerate even if complete')
    args = parser.parse_args(argv)
    cfg = data_config(args.kind, num_clips=args.num_clips, seed=args.seed)
    gen = generate if args.force else ensure_dataset
    print(gen(args.root, cfg, workers=args.workers))


if __name__ == '__main__':
    main()
