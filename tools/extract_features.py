#!/usr/bin/env python
"""Embed video files with a trained model: one mean-pooled embedding per clip and modality.

Example:
    python tools/extract_features.py configs/demo/stage1.py \\
        work_dirs/demo/stage1/iter_300.pth data/demo/clips --out feats.npz

SOURCES: files, folders (their video and audio files; other files are listed as skipped),
annotation files (.csv/.jsonl) or .txt lists.
Each file goes through the config's test pipeline. Audio-only files give an audio embedding
only, video-only files a video embedding only; unusable files are listed with their reason
(and written to OUT.failed.csv, which is removed when no file failed). OUT and --per-file are
checked writable before any work; the tool exits with an error when no file could be used.
The .npz holds `files`, `audio` / `video` [N, D] (NaN rows where a file lacks the stream),
`audio_present` / `video_present`, and with --tokens the token grids; read it with
numpy.load (nothing pickled) or mavil.apis.Features.load.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.apis.cli import add_model_args, tool_parser  # noqa: E402
from mavil.weights.matching import key_listing  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    add_model_args(parser)
    parser.add_argument('sources', nargs='+', help='files, folders, annotation files')
    parser.add_argument('--out', default='features.npz', help='output .npz')
    parser.add_argument('--per-file', metavar='DIR', help='also write DIR/<path>.<modality>.npy '
                        '(the files\' paths below their common folder, extension dropped)')
    parser.add_argument('--modalities', nargs='+', default=['audio', 'video'],
                        choices=['audio', 'video'])
    parser.add_argument('--tokens', action='store_true', help='also store the token grids')
    parser.add_argument('--data-prefix', help='folder annotation-file names are relative to '
                        '(default: the annotation file\'s folder)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--workers', type=int, default=2, help='decoding processes')
    return parser.parse_args(argv)


def main(argv=None):
    from mavil.apis import extract_features, init_model, resolve_sources
    from mavil.apis.cli import check_writable
    from mavil.apis.features import MEDIA_EXTENSIONS, write_failed_csv

    args = parse_args(argv)
    check_writable(args.out, '--out')
    if args.per_file:
        check_writable(args.per_file, '--per-file', folder=True)
    model = init_model(args.config, args.checkpoint, args.device, cfg_options=args.cfg_options,
                       unsafe_load=args.unsafe_load, allow_partial=args.allow_partial)
    skipped = []  # folder entries that are not media files
    files = [f for src in args.sources for f in resolve_sources(src, args.data_prefix, skipped)]
    if skipped:
        print(f'skipped {len(skipped)} file(s) of the folders without a media extension '
              f'({" ".join(MEDIA_EXTENSIONS)}): {key_listing(skipped, 5)}')
    feats = extract_features(model, files, modalities=args.modalities,
                             batch_size=args.batch_size, num_workers=args.workers,
                             with_tokens=args.tokens, progress=True)
    failed_csv = osp.splitext(args.out)[0] + '.failed.csv'
    if feats.failed:
        write_failed_csv(feats.failed, failed_csv)
    elif osp.isfile(failed_csv):  # a list from an earlier run would describe this one
        os.remove(failed_csv)
    if not feats.files:
        raise SystemExit(f'error: none of the {len(files)} files could be used (reasons in '
                         f'{failed_csv}); {args.out} not written')
    feats.save(args.out)
    counts = ', '.join(f'{m} {int(p.sum())}' for m, p in feats.present.items())
    print(f'{len(feats.files)} of {len(files)} files embedded ({counts}) -> {args.out}')
    if args.per_file:
        written = feats.save_per_file(args.per_file)
        print(f'{len(written)} .npy files in {args.per_file}')
    if feats.failed:
        print(f'{len(feats.failed)} files unusable (listed in {failed_csv}):')
        print('  ' + key_listing([f'{name}: {reason}' for name, reason in feats.failed],
                                 sep='\n  '))
    return feats


if __name__ == '__main__':
    main()
