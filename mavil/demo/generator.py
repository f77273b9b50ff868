"""Built-in demo dataset: writes the clips of a demo data kind and their annotations.

Files go to ``ROOT/clips/clip_XXXX.mp4`` (H.264 + AAC, 16 kHz mono), with
``ROOT/annotations.csv`` (``filename,labels,split`` for :class:`mavil.datasets.AVDataset`),
``ROOT/clips.csv`` (every generated parameter, for tests and inspection),
``ROOT/COMPLETE`` (the generation settings; its absence or a mismatch means regenerate) and
``ROOT/DEMO_DATASET`` (written first, JSON: the files the generator writes; only those are ever
deleted or replaced, and a non-empty folder without it is never written to).

    python -m mavil.demo.generator data/demo --num-clips 1280

Kinds: ``melody`` (:mod:`mavil.demo.melody`, the default) and ``category``
(:mod:`mavil.demo.categories`, whose modalities share only a category); :data:`KINDS` maps
each to its settings class and clip writer.
"""
import argparse
import csv
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Optional, Union

from . import categories, render
from .categories import CategoryDataConfig
from .melody import DemoDataConfig

# kind -> (settings class, clip writer ``(spec, cfg, root) -> Path``)
KINDS = {'melody': (DemoDataConfig, render.write_clip),
         'category': (CategoryDataConfig, categories.write_clip)}
DATA_KINDS = tuple(KINDS)


def data_config(kind: str = 'melody', **settings) -> DemoDataConfig:
    """The dataset settings of ``kind`` (``settings``: :class:`DemoDataConfig` fields)."""
    if kind not in KINDS:
        raise ValueError(f'unknown demo data kind {kind!r}; choose from {DATA_KINDS}')
    return KINDS[kind][0](**settings)


def _write_one(args: tuple) -> int:
    spec, cfg, root = args
    writer = next(write for config_type, write in KINDS.values() if type(cfg) is config_type)
    writer(spec, cfg, root)
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
