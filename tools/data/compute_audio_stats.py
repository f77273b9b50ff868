#!/usr/bin/env python
"""Dataset mean and standard deviation of the log-mel fbank, for AudioNormalize (Table 9).

    python tools/data/compute_audio_stats.py CONFIG [--num-samples 2000] [--workers N]
        [--seed 0] [--json] [--cfg-options KEY=VALUE ...]

The clips are those of the config's ``train_dataloader.dataset`` (wrappers such as
ConcatDataset included), read by its own pipeline cut after KaldiFbank: the loading,
resampling and fbank settings are the config's, while AudioNormalize and the random
augmentations (AudioRandomRoll, AudioAddNoise, SpecAugment) are dropped and only the audio
is decoded. The statistics are exact over every fbank value (time x mel) of the clips, in
float64; padding is not counted (AST's script averaged per-batch values that included the
zero padding, so its figures differ slightly for clips shorter than the target length).

``--num-samples`` clips are drawn at random (seeded; 0 = all). A clip that cannot be read is
skipped and counted, as in training. With ``--json`` the last line is
``{"mean", "std", "num_clips", "num_values", "skipped": [{"filename", "reason"}]}``.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
from typing import List, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # _common
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

import numpy as np  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from _common import parallel_map  # noqa: E402
from mavil.apis.cli import StrictDictAction  # noqa: E402
from mavil.structures import SKIPPED_KEY  # noqa: E402

AUGMENTATIONS = ('AudioRandomRoll', 'AudioAddNoise', 'SpecAugment')
DROPPED = AUGMENTATIONS + ('AudioNormalize', )


def stats_pipeline(pipeline: List[dict]) -> List[dict]:
    """``pipeline`` up to and including KaldiFbank, without normalisation or augmentation,
    loading audio only."""
    types = [t.get('type') for t in pipeline]
    if 'KaldiFbank' not in types:
        raise ValueError(f'the pipeline has no KaldiFbank transform: {types}')
    kept = []
    for transform in pipeline[:types.index('KaldiFbank') + 1]:
        transform = dict(transform)
        if transform.get('type') in DROPPED:
            continue
        if transform.get('type') == 'LoadAudioVideo':
            transform['modalities'] = ('audio', )
        kept.append(transform)
    return kept


def rewrite_dataset(cfg: dict) -> dict:
    """A copy of the dataset config with every pipeline replaced by :func:`stats_pipeline`."""
    cfg = dict(cfg)
    if 'pipeline' in cfg:
        cfg['pipeline'] = stats_pipeline(list(cfg['pipeline']))
    if cfg.get('datasets') is not None:
        cfg['datasets'] = [rewrite_dataset(d) for d in cfg['datasets']]
    if isinstance(cfg.get('dataset'), dict):
        cfg['dataset'] = rewrite_dataset(cfg['dataset'])
    return cfg


_DATASET = None


def _build_dataset(dataset_cfg: dict, scope: str, reuse: bool = False):
    """Build the dataset into this process's ``_DATASET`` (kept when ``reuse`` and already
    there: forked workers inherit the parent's)."""
    global _DATASET
    if not (reuse and _DATASET is not None):
        init_default_scope(scope)
        from mavil.registry import DATASETS
        _DATASET = DATASETS.build(dataset_cfg)
    return _DATASET


def clip_stats(index: int) -> Tuple:
    """(count, mean, M2) of one clip's fbank values, or ('skipped', filename, reason)."""
    results = _DATASET[index]
    if SKIPPED_KEY in results:
        return 'skipped', results[SKIPPED_KEY]['filename'], results[SKIPPED_KEY]['reason']
    fbank = results['audio'].double()  # [1, T, F]
    mean = fbank.mean().item()
    return fbank.numel(), mean, (fbank - mean).pow(2).sum().item()


def combine(parts: List[Tuple[int, float, float]]) -> Tuple[int, float, float]:
    """Merge (count, mean, M2) of disjoint sets (Chan et al.): exact, no cancellation."""
    n, mean, m2 = 0, 0.0, 0.0
    for nb, mb, m2b in parts:
        delta = mb - mean
        total = n + nb
        mean += delta * nb / total
        m2 += m2b + delta * delta * n * nb / total
        n = total
    return n, mean, m2


def compute(dataset_cfg: dict, *, num_samples: int = 2000, workers: int = 1, seed: int = 0,
            scope: str = 'mavil') -> dict:
    """Statistics of the fbank of (a random subset of) the dataset built from ``dataset_cfg``
    (an unchanged training config: the pipeline is rewritten here)."""
    dataset_cfg = rewrite_dataset(dataset_cfg)
    size = len(_build_dataset(dataset_cfg, scope))
    if size == 0:
        raise ValueError('the dataset is empty')
    if 0 < num_samples < size:
        indices = np.sort(np.random.default_rng(seed).choice(size, num_samples, replace=False))
    else:
        indices = np.arange(size)
    parts, skipped = [], []
    for result in parallel_map(clip_stats, indices.tolist(), workers=workers, total=len(indices),
                               desc='fbank statistics', initializer=_build_dataset,
                               initargs=(dataset_cfg, scope, True)):
        if result[0] == 'skipped':
            skipped.append(dict(filename=result[1], reason=result[2]))
        else:
            parts.append(result)
    if not parts:
        raise RuntimeError(f'none of the {len(indices)} clips could be read; first problem: '
                           f'{skipped[0] if skipped else None}')
    n, mean, m2 = combine(sorted(parts))  # sorted: the same sum in any worker order
    return dict(mean=mean, std=math.sqrt(m2 / n), num_clips=len(parts), num_values=n,
                skipped=skipped)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[1:]))
    p.add_argument('config', help='training config (its train_dataloader.dataset is read)')
    p.add_argument('--num-samples', type=int, default=2000,
                   help='clips drawn at random (0 = every clip)')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', action='store_true', help='print the result as JSON (last line)')
    p.add_argument('--cfg-options', nargs='+', action=StrictDictAction, default={},
                   help='override config settings, e.g. train_dataloader.dataset.ann_file=x')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    stats = compute(cfg.train_dataloader.dataset.to_dict(), num_samples=args.num_samples,
                    workers=args.workers, seed=args.seed, scope=cfg.get('default_scope', 'mavil'))
    print(f'fbank mean {stats["mean"]:.4f}  std {stats["std"]:.4f}  over {stats["num_clips"]} '
          f'clips ({stats["num_values"]} values); {len(stats["skipped"])} unreadable clips '
          'skipped')
    for item in stats['skipped'][:20]:
        print(f'  skipped {item["filename"]}: {item["reason"]}')
    print(f'config: dict(type=\'AudioNormalize\', mean={stats["mean"]:.3f}, '
          f'std={stats["std"]:.3f})')
    if args.json:
        print(json.dumps(stats))
    return stats


if __name__ == '__main__':
    main()
