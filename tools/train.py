#!/usr/bin/env python
"""Train a MAViL model from a config with the MMEngine Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [PATH]] [--amp]
                          [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmengine.config import Config, DictAction  # noqa: E402
from mavil.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mavil.engine  # noqa: E402,F401  (registers MAViLRunner)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a MAViL model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from PATH, or from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast mixed precision')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full unpickling of load_from checkpoints (trusted files)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.fusion.type=MBTFusion')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.unsafe_load:
        cfg.unsafe_load = True
    return cfg


def main(argv=None) -> None:
    cfg = build_config(parse_args(argv))
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
