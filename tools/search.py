#!/usr/bin/env python
"""Cross-modal search over an embedding file written by tools/extract_features.py.

Example:
    python tools/search.py feats.npz --query data/demo/clips/clip_0003.mp4 \\
        --direction a2v --topk 10 --html search.html

--query is a file of the embedding file (path or unique base name) or its row index.
a2v: the query's audio embedding ranks the videos; v2a the reverse (a2a / v2v within one
modality). Scores are cosine similarities. --html writes a static page with the query, the
results' first frames and <audio> players (open it in a browser; links are URL-encoded, so
any file name works).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.apis.cli import tool_parser  # noqa: E402


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('features', help='.npz from tools/extract_features.py')
    parser.add_argument('--query', required=True, help='file path, base name or row index')
    parser.add_argument('--direction', default='a2v', choices=['a2v', 'v2a', 'a2a', 'v2v'])
    parser.add_argument('--topk', type=positive_int, default=10)
    parser.add_argument('--html', metavar='OUT.html', help='write a result page (its folder '
                        'is created)')
    return parser.parse_args(argv)


def main(argv=None):
    from mavil.apis.cli import check_writable
    from mavil.apis.features import Features
    from mavil.apis.search import search, write_html

    args = parse_args(argv)
    if args.html:
        check_writable(args.html, '--html')
    try:
        feats = Features.load(args.features)
        result = search(feats, args.query, direction=args.direction, topk=args.topk)
    except FileNotFoundError as err:
        raise SystemExit(f'error: no embedding file {err.filename or args.features}') from None
    except (KeyError, IndexError, ValueError) as err:
        raise SystemExit(f'error: {err.args[0] if isinstance(err, KeyError) else err}') \
            from None
    print(f'query #{result.query_index}: {result.query_file} ({args.direction})')
    for rank, (i, score, name) in enumerate(zip(result.indices, result.scores, result.files),
                                            start=1):
        mark = '  <- query file' if i == result.query_index else ''
        print(f'{rank:>4}  {score:+.4f}  [{i}] {name}{mark}')
    if args.html:
        write_html(result, feats, args.html)
        print(f'wrote {args.html}')
    return result


if __name__ == '__main__':
    main()
