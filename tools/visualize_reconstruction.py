#!/usr/bin/env python
"""What a stage-1 MAViL reconstructs (the paper's Fig. 3) for one video file.

Example:
    python tools/visualize_reconstruction.py configs/demo/stage1.py \\
        work_dirs/demo/stage1/iter_300.pth data/demo/clips/clip_0000.mp4 --out fig.png --seed 0

Rows: fbank original / masked input / reconstruction with the visible patches pasted back, then
the frames in the same three rows. Masks use the encoders' ratio and masking type, drawn from
``--seed`` (same seed, same figure). Only raw-target (stage-1) models: stage-2 models predict
teacher tokens, which are not pixels.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.apis.cli import add_model_args, tool_parser  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    add_model_args(parser)
    parser.add_argument('video', help='a video file with an audio track')
    parser.add_argument('--out', default='reconstruction.png', help='output image (.png/.pdf)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the masks')
    parser.add_argument('--denorm', choices=['visible', 'oracle', 'none'], default='visible',
                        help='de-normalisation of per-patch-normalised targets: statistics of '
                        'the visible patches (default) or of each hidden patch itself')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    from mavil.apis import ClipLoader, init_model, load_config
    from mavil.visualization import check_raw_targets, visualize_reconstruction

    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    target = cfg.model.get('target', {}).get('type', 'RawTargets')
    if target not in ('RawTargets', 'mavil.RawTargets'):  # refuse before loading a teacher
        raise SystemExit(f'error: {args.config} trains on {target} targets (teacher tokens, '
                         f'not pixels or fbank values): reconstruction figures need a stage-1 '
                         f'(RawTargets) model')
    model = init_model(cfg, args.checkpoint, args.device, unsafe_load=args.unsafe_load,
                       allow_partial=args.allow_partial)
    try:
        check_raw_targets(model)
    except TypeError as err:
        raise SystemExit(f'error: {args.config}: {err}') from None
    sample = ClipLoader(model.cfg, ('audio', 'video'))(args.video, ('audio', 'video'))
    title = f'{osp.basename(args.video)}  (seed {args.seed})'
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig, _ = visualize_reconstruction(model, sample, seed=args.seed, denorm=args.denorm,
                                      out_file=args.out, title=title)
    import matplotlib.pyplot as plt
    plt.close(fig)
    print(f'wrote {args.out}')
    return args.out


if __name__ == '__main__':
    main()
