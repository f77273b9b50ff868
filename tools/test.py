#!/usr/bin/env python
"""Evaluate a checkpoint with a config's test dataloader and evaluator (MMEngine Runner).

    python tools/test.py CONFIG CHECKPOINT [--out preds.pkl] [--work-dir DIR]
                         [--cfg-options k=v ...] [--launcher pytorch]

The checkpoint is loaded through ``cfg.load_from`` (weights-only; ``--unsafe-load`` for a
trusted file that needs full unpickling). ``--out`` dumps every test sample's prediction
(e.g. ``pred_score``, ``labels``, ``clip_id`` or the retrieval embeddings) to a pickle file
with MMEngine's ``DumpResults``. Metrics are computed over all ranks.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mavil.engine  # noqa: E402,F401  (registers MAViLRunner)
from mavil.registry import RUNNERS  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a MAViL model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--out', help='dump per-sample predictions to this .pkl file')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full unpickling of the checkpoint (trusted files only)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. test_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out must end with .pkl or .pickle, got {args.out}')
    return args


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.unsafe_load:
        cfg.unsafe_load = True
    for key in ('test_dataloader', 'test_cfg', 'test_evaluator'):
        if cfg.get(key) is None:
            raise KeyError(f'{args.config} has no {key}; it cannot be tested')
    if args.out is not None:
        evaluators = cfg.test_evaluator
        evaluators = list(evaluators) if isinstance(evaluators, (list, tuple)) else [evaluators]
        cfg.test_evaluator = evaluators + [dict(type='DumpResults', out_file_path=args.out)]
    return cfg


def main(argv=None) -> dict:
    cfg = build_config(parse_args(argv))
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
