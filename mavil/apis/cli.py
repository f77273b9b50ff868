"""Shared command-line plumbing of tools/train.py and tools/test.py (MMEngine conventions)."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

from .inference import load_config


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """--work-dir, --cfg-options, --launcher, --local-rank, --unsafe-load."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full unpickling of load_from checkpoints (trusted files)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.fusion.type=MBTFusion')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def config_from_args(args: argparse.Namespace) -> Config:
    """Config file + --cfg-options, launcher, default work dir work_dirs/<config name>."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.unsafe_load:
        cfg.unsafe_load = True
    return cfg
