#!/usr/bin/env python
"""Decode an annotation file's clips once into a clip cache (tar shards with an index).

    python tools/data/build_cache.py CONFIG OUT_DIR [--ann-file F] [--data-prefix D]
        [--split S] [--workers N] [--clips-per-shard 512] [--backend pyav]
        [--short-side 224] [--frame-format jpeg|raw] [--jpeg-quality Q]
        [--max-pixel-error 1.0] [--audio auto|pcm16|float32|fbank16]

What is cached per clip follows CONFIG's ``train_pipeline`` and ``test_pipeline``: the frames
of the training clip sampler's fps grid over the whole clip, those of the test sampler, at
the short side of the largest crop, and the audio at the pipelines' rate (the fbank itself
with ``--audio auto`` when no step after it reads the waveform). The clips are those of
CONFIG's ``train_dataloader.dataset`` annotation file(s) (each dataset of a ``ConcatDataset``;
keys relative to their common folder), every split unless ``--split`` (so the test split is
cached too). The reader backend is any ``MEDIA_READERS`` name.

Runs on ``--workers`` processes with a progress bar. A rerun into the same OUT_DIR keeps the
finished shards and builds the rest (the settings and the clip list must be the same).
Clips that cannot be decoded are listed in OUT_DIR/unusable.tsv (key, error, reason); a
``LoadCachedClip`` pipeline skips and counts them as it would the files themselves.
Then replace ``LoadAudioVideo`` in the config by
``dict(type='LoadCachedClip', cache=OUT_DIR, clip_sampler=...)``.
"""
import argparse
import dataclasses
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

from mmengine.config import Config  # noqa: E402

from mavil.datasets.annotations import load_annotations, read_label_file  # noqa: E402
from mavil.datasets.cache import build_cache, settings_from_pipelines  # noqa: E402
from mavil.datasets.cache.build import UNUSABLE, clip_key  # noqa: E402
from mavil.datasets.readers import media_reader  # noqa: E402


def dataset_configs(cfg: Config) -> list:
    """The training dataset's configs (``train_dataloader.dataset``, else ``train_dataset``;
    the datasets inside a wrapper such as ``ConcatDataset``)."""
    dataset = cfg.get('train_dataloader', {}).get('dataset') or cfg.get('train_dataset') or {}
    datasets = dataset.get('datasets') or [dataset.get('dataset') or dataset]
    if not all(d and 'ann_file' in d for d in datasets):
        raise ValueError(f'{cfg.filename}: no train_dataloader.dataset with an ann_file; give '
                         '--ann-file and --data-prefix')
    return datasets


def clip_files(args, cfg: Config) -> tuple:
    """(data prefix, [(key, filename)] of the distinct files the annotation files list). The
    prefix is the folder common to every dataset's ``data_prefix``; keys are relative to it."""
    if args.ann_file:
        datasets = [dict(ann_file=args.ann_file, data_prefix=args.data_prefix or '')]
    else:
        datasets = dataset_configs(cfg)
    records = []
    for dataset in datasets:
        label_file = dataset.get('label_file')
        records += load_annotations(
            dataset['ann_file'], ann_format=args.ann_format or dataset.get('ann_format', 'csv'),
            data_prefix=dataset.get('data_prefix', ''), split=args.split,
            label_map=read_label_file(label_file) if label_file else None,
            filename_template=dataset.get('filename_template'))[0]
    prefixes = {osp.abspath(d.get('data_prefix', '')) for d in datasets}
    prefix = (args.data_prefix if args.data_prefix is not None else
              prefixes.pop() if len(prefixes) == 1 else osp.commonpath(sorted(prefixes)))
    files = {}
    for record in records:  # a file listed for several segments is decoded once
        files.setdefault(clip_key(record['filename'], prefix), record['filename'])
    return prefix, list(files.items())


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 2)[2])
    p.add_argument('config', help='config whose pipelines the cache serves')
    p.add_argument('out_dir', help='cache folder (resumed when it exists)')
    p.add_argument('--ann-file', help="annotation file (default: the config's)")
    p.add_argument('--ann-format', help="annotation format (default: the config's)")
    p.add_argument('--data-prefix', help="folder of the media files (default: the config's)")
    p.add_argument('--split', help='cache only this split (default: every row)')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                   help='encoding processes (default: all cores)')
    p.add_argument('--clips-per-shard', type=int, default=512,
                   help='clips per shard (default 512: ~500 MB at the ~1 MB per clip measured '
                   'for 10-s 360p clips, JPEG q95 at short side 224)')
    p.add_argument('--backend', help="media reader, a MEDIA_READERS name (default: the "
                   "config's LoadAudioVideo backend)")
    p.add_argument('--short-side', type=int,
                   help="frames' short side (default: the pipelines' largest crop)")
    p.add_argument('--full-size', action='store_true', help='keep the source frame size')
    p.add_argument('--frame-format', choices=('jpeg', 'raw'), default='jpeg')
    p.add_argument('--jpeg-quality', type=int,
                   help='JPEG quality (default: chosen by --max-pixel-error)')
    p.add_argument('--max-pixel-error', type=float, default=1.0,
                   help='mean absolute pixel error (0-255) the chosen JPEG quality must stay '
                   'within, measured on the first clips (default 1.0)')
    p.add_argument('--audio', choices=('auto', 'pcm16', 'float32', 'fbank16'), default='auto')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    pipelines = [cfg[name] for name in ('train_pipeline', 'test_pipeline') if name in cfg]
    if not pipelines:
        raise ValueError(f'{args.config} has neither train_pipeline nor test_pipeline')
    if args.backend:
        media_reader(args.backend)  # an unknown backend fails before any work
    settings = settings_from_pipelines(
        pipelines, audio=args.audio, backend=args.backend, short_side=args.short_side,
        frame_format=args.frame_format, jpeg_quality=args.jpeg_quality,
        max_pixel_error=args.max_pixel_error)
    if args.full_size:
        settings = dataclasses.replace(settings, short_side=None)
    prefix, files = clip_files(args, cfg)
    print(f'{len(files)} clips -> {args.out_dir}: {settings}', flush=True)
    start = time.perf_counter()
    report = build_cache(files, args.out_dir, settings, data_prefix=prefix,
                         clips_per_shard=args.clips_per_shard, workers=args.workers,
                         progress=not args.no_progress)
    seconds = time.perf_counter() - start
    encoded = len(files) if report.shards_kept == 0 else None
    rate = f', {encoded / seconds:.1f} clips/s' if encoded else ''
    print(f'{report.clips} clips cached, {report.unusable} unusable (listed in '
          f'{osp.join(args.out_dir, UNUSABLE)}); {report.shards_written} shards written, '
          f'{report.shards_kept} kept; {report.bytes / 1e6:.1f} MB '
          f'({report.bytes / max(report.clips, 1) / 1e3:.1f} KB per clip); JPEG quality '
          f'{report.jpeg_quality}; {seconds:.1f} s{rate}', flush=True)
    return report


if __name__ == '__main__':
    main()
