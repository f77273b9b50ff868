#!/usr/bin/env python
"""Top-k labels of a fine-tuned classifier for video files.

Example:
    python tools/predict.py configs/finetune/as20k_av.py \\
        work_dirs/as20k_av/epoch_60.pth clip1.mp4 clip2.mp4 --topk 5

Each file goes through the config's test pipeline (multi-clip testing where the config says
so; scores averaged over clips). Class names come from the config's dataset (classes,
label_file or the annotation file) when readable here, else class_<i>. The tool exits with an
error when no video could be used.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.apis.cli import add_model_args, tool_parser  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    add_model_args(parser, 'fine-tuning config (AVClassifier)')
    parser.add_argument('videos', nargs='+', help='video files')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--out', help='also write the predictions as JSON')
    return parser.parse_args(argv)


def main(argv=None) -> list[dict]:
    from mavil.apis import inference_classifier, init_model
    from mavil.apis.cli import check_writable
    from mavil.datasets.readers import MediaError

    args = parse_args(argv)
    if args.out:
        check_writable(args.out, '--out')
    model = init_model(args.config, args.checkpoint, args.device, cfg_options=args.cfg_options,
                       unsafe_load=args.unsafe_load, allow_partial=args.allow_partial)
    if not hasattr(model, 'head'):
        raise SystemExit(f'error: {args.config} builds {type(model).__name__}, not a '
                         f'classifier; use a fine-tuning config (configs/finetune/...)')
    results = []
    for video in args.videos:
        try:
            res = inference_classifier(model, video, topk=args.topk)
        except MediaError as err:
            print(f'{video}: unusable: {err.problem}')
            results.append(dict(file=video, error=err.problem))
            continue
        print(video)
        for name, score in zip(res['pred_labels'], res['pred_scores']):
            print(f'  {score:.4f}  {name}')
        results.append({k: v for k, v in res.items() if k != 'scores'})
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    if all('error' in r for r in results):
        raise SystemExit(f'error: none of the {len(results)} videos could be used')
    return results


if __name__ == '__main__':
    main()
