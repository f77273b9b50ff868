#!/usr/bin/env python
"""Train a MAViL model from a config with the MMEngine Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [PATH]] [--amp]
                          [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.apis.cli import add_runner_args, config_from_args  # noqa: E402
from mavil.apis.stages import build_runner  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a MAViL model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from PATH, or from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast mixed precision')
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace):
    cfg = config_from_args(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv=None) -> None:
    build_runner(build_config(parse_args(argv))).train()


if __name__ == '__main__':
    main()
