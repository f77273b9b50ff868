"""Building and training one demo stage with MMEngine: the demo's data and sizes on top of
the stage chaining that ``tools/pretrain_pipeline.py`` uses too (:mod:`mavil.apis.stages`)."""
import copy
import os.path as osp
import shutil
import time
from typing import Optional

import torch

import mavil.datasets  # noqa: F401  (registers AVDataset and the transforms)
from mavil.apis import load_config
from mavil.apis.stages import final_checkpoint_name
from mavil.datasets.annotations import load_annotations
from mavil.datasets.cache import build_cache, settings_from_pipelines
from mavil.datasets.cache.build import clip_key
from mavil.datasets.cache.format import VERSION
from mavil.registry import DATASETS


def load_stage_config(path: str, settings, seed: int, work_dir: str, iters: Optional[int],
                      extra: Optional[dict] = None):
    """The stage's Config with the demo's data location, sizes, seed and work dir applied.

    Args:
        path: the stage's config file.
        settings: :class:`mavil.demo.run.DemoSettings` (data root, batch size, workers,
            ``cfg_options`` for every stage).
        seed: the model seed (``randomness.seed``: initial weights, masks, data order).
        work_dir: where the runner writes its checkpoints and logs.
        iters: training iterations (None: the config's).
        extra: more overrides for this stage only (after ``settings.cfg_options``).
    """

    cfg = load_config(path)
    cfg.merge_from_dict(options_for(cfg, dict(settings.cfg_options, **(extra or {})), path))
    root = settings.data_root
    for name in ('train_dataset', 'test_dataset'):
        cfg[name].update(ann_file=osp.join(root, 'annotations.csv'), data_prefix=root)
    cfg.train_dataloader.dataset.update(ann_file=osp.join(root, 'annotations.csv'),
                                        data_prefix=root)
    if getattr(settings, 'cache_dir', None):
        set_cache(cfg, settings.cache_dir)
    if settings.batch_size is not None:
        cfg.train_dataloader.batch_size = settings.batch_size
    if settings.num_workers is not None:
        cfg.train_dataloader.num_workers = settings.num_workers
        cfg.train_dataloader.persistent_workers = settings.num_workers > 0
    if iters is not None:
        set_iters(cfg, iters)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.experiment_name = f'demo_{osp.basename(work_dir)}_{time.strftime("%Y%m%d_%H%M%S")}'
    return cfg


def options_for(cfg, options: dict, path: str) -> dict:
    """``options`` without those that set a part this stage does not have (the MAE-only
    baseline has no fusion and no contrast: ``model.inter_loss.loss_weight=0.1`` given for
    every stage applies to the others only); each dropped one is said."""
    kept = {}
    for key, value in options.items():
        node, parts, switched_off = cfg, key.split('.'), None
        for i, part in enumerate(parts[:-1]):
            if not hasattr(node, 'get') or part not in node:
                break  # a new or misspelt key: merged, and checked when the stage is built
            node = node.get(part)
            if node is None:  # a part switched off in this stage's config
                switched_off = '.'.join(parts[:i + 1])
                break
        if switched_off:
            print(f'{osp.basename(path)} has no {switched_off}: option {key}={value} not '
                  f'applied to it', flush=True)
        else:
            kept[key] = value
    return kept


def set_cache(cfg, cache_dir: str) -> None:
    """Point every ``LoadCachedClip`` step of the config's pipelines at ``cache_dir``."""
    def update(pipeline) -> None:
        for step in pipeline or ():
            if step.get('type') == 'LoadCachedClip':
                step['cache'] = cache_dir

    for name in ('train_pipeline', 'test_pipeline'):
        update(cfg.get(name))
    for dataset in (cfg.get('train_dataset'), cfg.get('test_dataset'),
                    cfg.train_dataloader.get('dataset')):
        if dataset is not None:
            update(dataset.get('pipeline'))


def ensure_cache(cfg, cache_dir: str, stamp: str, *, workers: int, progress: bool) -> str:
    """Build the clip cache of every clip of the config's annotation file (all splits) for
    its training and test pipelines, unless ``cache_dir`` holds one built with ``stamp``
    (the data and the pipelines it was built for) and this code's record format; returns the
    cache folder."""


    stamp = f'{stamp}\nrecord format {VERSION}'
    stamp_file = osp.join(cache_dir, 'demo_stamp.json')
    if osp.isfile(stamp_file) and open(stamp_file).read() == stamp:
        print(f'clip cache reused: {cache_dir}')
        return cache_dir
    shutil.rmtree(cache_dir, ignore_errors=True)
    dataset = cfg.train_dataset
    records, _ = load_annotations(dataset.ann_file, data_prefix=dataset.data_prefix)
    files = {clip_key(r['filename'], dataset.data_prefix): r['filename'] for r in records}
    # raw frames: the demo's 64 x 64 frames exactly as decoded (96 KB per clip)
    settings = settings_from_pipelines([cfg.train_pipeline, cfg.test_pipeline],
                                       frame_format='raw')
    report = build_cache(list(files.items()), cache_dir, settings,
                         data_prefix=dataset.data_prefix, workers=workers, progress=progress)
    if report.unusable:
        raise RuntimeError(f'{report.unusable} demo clips could not be cached; see '
                           f'{osp.join(cache_dir, "unusable.tsv")}')
    with open(stamp_file, 'w') as f:
        f.write(stamp)
    return cache_dir


def set_iters(cfg, iters: int) -> None:
    """Shorten (or lengthen) the iteration schedule: warm-up is 10 %, cosine decay the rest."""
    if iters < 2:
        raise ValueError(f'a demo stage needs at least 2 iterations (warm-up, decay), got {iters}')
    warmup = max(1, iters // 10)
    cfg.max_iters = iters
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup, end=iters,
             T_max=max(1, iters - warmup), eta_min=1e-5),
    ]
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = min(cfg.default_hooks.logger.interval, max(1, iters))


def build_dataset(cfg_dataset: dict):
    return DATASETS.build(copy.deepcopy(cfg_dataset))


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


def train_stage(runner) -> tuple[torch.nn.Module, str, dict]:
    """Train with the MMEngine runner; returns (model, final checkpoint, per-iter losses)."""

    runner.train()
    ckpt = osp.join(runner.work_dir, final_checkpoint_name(runner.cfg, runner.work_dir))
    if not osp.isfile(ckpt):
        raise FileNotFoundError(f'training finished but {ckpt} was not written')
    losses = {}
    for key, buffer in runner.message_hub.log_scalars.items():
        name = key.split('/', 1)[-1]
        if key.startswith('train/') and name.startswith('loss'):
            losses[name] = [float(v) for v in buffer.data[0]]
    return unwrap(runner.model), ckpt, losses
