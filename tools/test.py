#!/usr/bin/env python
"""Evaluate a checkpoint with a config's test dataloader and evaluator (MMEngine Runner).

    python tools/test.py CONFIG CHECKPOINT [--out preds.pkl] [--work-dir DIR]
                         [--cfg-options k=v ...] [--launcher pytorch]

The checkpoint is loaded through ``cfg.load_from`` (weights-only, or ``.safetensors``;
``--unsafe-load`` for a trusted file that needs full unpickling). It must hold every trainable
weight of the model (a pre-training checkpoint with a fine-tuning config leaves the head
random): refused unless ``--allow-partial``. ``--out`` dumps every test sample's prediction
(e.g. ``pred_score``, ``labels``, ``clip_id`` or the retrieval embeddings) to a pickle file
with MMEngine's ``DumpResults``. Metrics are computed over all ranks.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.apis.cli import add_runner_args, config_from_args  # noqa: E402
from mavil.apis.stages import build_runner  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a MAViL model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump per-sample predictions to this .pkl file')
    parser.add_argument('--allow-partial', action='store_true',
                        help='evaluate even if the checkpoint lacks trainable weights (they '
                        'keep their random initialisation)')
    add_runner_args(parser)
    args = parser.parse_args(argv)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out must end with .pkl or .pickle, got {args.out}')
    return args


def build_config(args: argparse.Namespace):
    cfg = config_from_args(args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg.load_from, cfg.resume = args.checkpoint, False
    for key in ('test_dataloader', 'test_cfg', 'test_evaluator'):
        if cfg.get(key) is None:
            raise KeyError(f'{args.config} has no {key}; it cannot be tested')
    if args.out is not None:
        evaluators = cfg.test_evaluator
        evaluators = list(evaluators) if isinstance(evaluators, (list, tuple)) else [evaluators]
        cfg.test_evaluator = evaluators + [dict(type='DumpResults', out_file_path=args.out)]
    return cfg


def main(argv=None) -> dict:
    from mavil.engine.runner import MAViLRunner
    args = parse_args(argv)
    runner = build_runner(build_config(args))
    if isinstance(runner, MAViLRunner):
        return runner.test(allow_partial=args.allow_partial)
    return runner.test()


if __name__ == '__main__':
    main()
