"""Building and training one demo stage with MMEngine: the demo's data and sizes on top of
the stage chaining that ``tools/pretrain_pipeline.py`` uses too (:mod:`mavil.apis.stages`)."""
import copy
import os.path as osp
import time
from typing import Optional

import torch


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
    from mavil.apis import load_config

    cfg = load_config(path)
    cfg.merge_from_dict(options_for(cfg, dict(settings.cfg_options, **(extra or {})), path))
    root = settings.data_root
    for name in ('train_dataset', 'test_dataset'):
        cfg[name].update(ann_file=osp.join(root, 'annotations.csv'), data_prefix=root)
    cfg.train_dataloader.dataset.update(ann_file=osp.join(root, 'annotations.csv'),
                                        data_prefix=root)
    if getattr(settings, 'splits_file', None) and settings.train_from_memory:
        train_from_memory(cfg, settings.splits_file)
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


# Deterministic loading steps of the training pipeline: ``decode_eval`` already ran them (the
# test pipeline begins with the same steps), so training from memory starts after them.
LOADING_STEPS = ('LoadAudioVideo', 'AudioResample', 'KaldiFbank', 'AudioPadCrop',
                 'AudioNormalize')


def train_from_memory(cfg, splits_file: str) -> None:
    """Train on the decoded training split (:class:`DecodedClipsDataset`): the training
    pipeline's loading steps are dropped (they must equal the test pipeline's, which produced
    the file) and its random steps run per sample, in the main process."""
    def strip(step: dict) -> dict:
        step = dict(step)
        if step['type'] == 'LoadAudioVideo' and 'clip_sampler' in step:  # random vs centre start
            step['clip_sampler'] = {k: v for k, v in step['clip_sampler'].items()
                                    if k != 'test_mode'}
        return step

    test_steps = [strip(t) for t in cfg.test_pipeline]
    random_steps = []
    for step in cfg.train_pipeline:
        if step['type'] not in LOADING_STEPS:
            random_steps.append(dict(step))
        elif strip(step) not in test_steps:
            raise ValueError(f'cannot train from the decoded clips: the training pipeline step '
                             f'{dict(step)} is not in the test pipeline that decoded them')
    cfg.train_dataloader.dataset = dict(type='DecodedClipsDataset', splits_file=splits_file,
                                        split='train', pipeline=random_steps)
    cfg.train_dataloader.num_workers = 0  # crop + flip of a 64x64 clip: cheap in-process
    cfg.train_dataloader.persistent_workers = False


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
    import mavil.datasets  # noqa: F401  (registers AVDataset and the transforms)
    from mavil.registry import DATASETS
    return DATASETS.build(copy.deepcopy(cfg_dataset))


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


def train_stage(runner) -> tuple[torch.nn.Module, str, dict]:
    """Train with the MMEngine runner; returns (model, final checkpoint, per-iter losses)."""
    from mavil.apis.stages import final_checkpoint_name

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
