"""Fine-tuning a demo model on the demo's labels: the paper's evaluation protocol (Sec. 4.3,
App. B.3) at demo size.

:func:`finetune` takes a pre-trained checkpoint (or none: training from scratch), a modality
setting (``'audio'``, ``'video'``, ``'av'``) and a seed, fine-tunes an ``AVClassifier`` with
``configs/demo/finetune_<modality>.py`` (MMEngine training: layer-wise lr decay, fine-tuning
masking, SpecAugment, batch mixup, RandAugment ...) on the training split and returns its top-1
accuracy on the held-out split. :func:`finetune_run` returns the details (training loss
curve, time, checkpoint).

Like pre-training (:mod:`mavil.demo.stages`), training reads the clips decoded once
(``splits_file``) when given, else the files; the held-out split is then classified from the
same decoded tensors, else through the config's test dataloader.
"""
import os.path as osp
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import torch

from mavil.apis import load_config
from mavil.apis.stages import build_runner
from .evaluate import load_splits
from .memory_dataset import DecodedClipsDataset  # noqa: F401  (registers it)
from .stages import train_stage

REPO_ROOT = Path(__file__).resolve().parents[2]
MODALITIES = ('audio', 'video', 'av')
FINETUNE_CONFIGS = {m: str(REPO_ROOT / f'configs/demo/finetune_{m}.py') for m in MODALITIES}


@dataclass
class FinetuneResult:
    """One fine-tuning run: held-out top-1 ``accuracy`` (fraction), training-split top-1 of
    the final model (``train_accuracy``, on the unaugmented clips; None without a splits
    file), per-iteration ``losses``, ``train_seconds`` and the final ``checkpoint``."""
    accuracy: float
    train_accuracy: Optional[float]
    losses: list = field(default_factory=list)
    train_seconds: float = 0.0
    checkpoint: str = ''


def finetune(checkpoint: Optional[str], modality: str, seed: int, *,
             data_root: str = 'data/demo', work_dir: str = 'work_dirs/demo/finetune',
             splits_file: Optional[str] = None, epochs: Optional[int] = None,
             config: Optional[str] = None, cfg_options: Optional[dict] = None) -> float:
    """Fine-tune ``checkpoint`` for ``modality`` with ``seed``; returns the held-out top-1
    accuracy (a fraction). See :func:`finetune_run` for the arguments."""
    return finetune_run(checkpoint, modality, seed, data_root=data_root, work_dir=work_dir,
                        splits_file=splits_file, epochs=epochs, config=config,
                        cfg_options=cfg_options).accuracy


def finetune_run(checkpoint: Optional[str], modality: str, seed: int, *,
                 data_root: str = 'data/demo', work_dir: str = 'work_dirs/demo/finetune',
                 splits_file: Optional[str] = None, epochs: Optional[int] = None,
                 config: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> FinetuneResult:
    """Fine-tune and test one model.

    Args:
        checkpoint: a demo pre-training checkpoint (stage 1, stage 2, MAE-only: only the
            encoders are taken) or None (random initialisation: training from scratch).
        modality: ``'audio'``, ``'video'`` or ``'av'`` (audio+video with a new fusion).
        seed: ``randomness.seed``: the new layers' initial weights, fine-tuning masks,
            augmentation and data order.
        data_root: the demo data (``annotations.csv`` with ``train`` / ``test`` splits).
        work_dir: the run's checkpoints and logs.
        splits_file: the clips decoded once (:func:`mavil.demo.evaluate.save_splits`) with the
            config's test pipeline; None reads the files.
        epochs: fine-tuning epochs (None: the config's); warm-up stays 1/15 of them (Table 9:
            4 of 60), at least one.
        config: a fine-tuning config instead of ``configs/demo/finetune_<modality>.py``.
        cfg_options: overrides, as ``--cfg-options``.
    """
    import time


    cfg = finetune_config(modality, seed, data_root=data_root, work_dir=work_dir,
                          splits_file=splits_file, epochs=epochs, config=config,
                          cfg_options=cfg_options)
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'pre-trained checkpoint not found: {checkpoint}')
    cfg.load_from = checkpoint
    if splits_file:
        train_from_memory(cfg, splits_file)
    runner = build_runner(cfg)
    start = time.perf_counter()
    model, ckpt, curves = train_stage(runner)
    seconds = time.perf_counter() - start
    if splits_file:
        train_split, test_split = load_splits(splits_file)
        accuracy = split_accuracy(model, test_split)
        train_accuracy = split_accuracy(model, train_split)
    else:
        metrics = runner.test()
        accuracy, train_accuracy = float(metrics['top1']) / 100, None
    del runner, model
    return FinetuneResult(accuracy, train_accuracy, curves.get('loss', []), seconds, ckpt)


def finetune_config(modality: str, seed: int, *, data_root: str, work_dir: str,
                    splits_file: Optional[str] = None, epochs: Optional[int] = None,
                    config: Optional[str] = None, cfg_options: Optional[dict] = None):
    """The fine-tuning Config with the data location, schedule, seed and work dir applied."""

    if modality not in MODALITIES:
        raise ValueError(f'modality must be one of {MODALITIES}, got {modality!r}')
    cfg = load_config(config or FINETUNE_CONFIGS[modality], cfg_options)
    ann_file = osp.join(data_root, 'annotations.csv')
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(ann_file=ann_file, data_prefix=data_root)
    if epochs is not None:
        if epochs < 2:
            raise ValueError(f'fine-tuning needs at least 2 epochs (warm-up, decay), got '
                             f'{epochs}')
        cfg.train_cfg.max_epochs = epochs
        cfg.warmup_epochs = max(1, round(epochs / 15))
    cfg.work_dir = osp.abspath(work_dir)
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.experiment_name = f'finetune_{modality}_seed{seed}_{osp.basename(work_dir)}'
    return cfg


# Deterministic loading steps: the decoded clips already went through them.
LOADING_STEPS = ('LoadAudioVideo', 'LoadCachedClip', 'AudioResample', 'KaldiFbank',
                 'AudioPadCrop', 'AudioNormalize')


def train_from_memory(cfg, splits_file: str) -> None:
    """Train on the decoded training split (:class:`DecodedClipsDataset`): the training
    pipeline's loading steps are dropped (they must equal the test pipeline's) and its random
    steps run per sample, in the main process."""
    def strip(step: dict) -> dict:
        step = dict(step)
        if 'clip_sampler' in step:  # random vs centred clip start: one 4 s window here
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
                             f'{dict(step)} is not in the test pipeline')
    cfg.train_dataloader.dataset = dict(type='DecodedClipsDataset', splits_file=splits_file,
                                        split='train', pipeline=random_steps)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False


@torch.no_grad()
def split_accuracy(model: torch.nn.Module, split, batch_size: int = 64) -> float:
    """Top-1 accuracy of a classifier on a decoded split (``EvalSplit``): every clip through
    the model's data preprocessor and ``predict`` (full inputs, no masking)."""
    was_training = model.training
    model.eval()
    correct = 0
    try:
        for start in range(0, len(split), batch_size):
            inputs = {'audio': split.audio[start:start + batch_size],
                      'video': split.video[start:start + batch_size]}
            inputs = {m: inputs[m] for m in model.modalities}
            inputs = model.data_preprocessor({'inputs': inputs}, False)['inputs']
            samples = model.predict(inputs)
            pred = torch.stack([s.pred_score for s in samples]).argmax(1)
            correct += int((pred == split.labels[start:start + batch_size]).sum())
    finally:
        model.train(was_training)
    return correct / len(split)


# ------------------------------------------------------------------- the demo's phase
def finetune_jobs(checkpoints: dict, modalities, stages) -> list[tuple]:
    """``(seed, stage, modality, checkpoint)`` for every seed of ``checkpoints``
    (``{seed: {stage: path}}``) and every stage and modality; ``random_init`` has no
    checkpoint (training from scratch). Audio+video first: the longest jobs start first."""
    order = sorted(modalities, key=lambda m: m != 'av')
    jobs = []
    for modality in order:
        for seed, ckpts in checkpoints.items():
            for stage in stages:
                if stage == 'random_init':
                    jobs.append((seed, stage, modality, None))
                elif stage in ckpts:
                    jobs.append((seed, stage, modality, ckpts[stage]))
    return jobs


def _job(job: tuple, options: dict, log_file: Optional[str], threads: int) -> dict:
    """One fine-tuning run (in a worker process: its output goes to ``log_file``)."""
    import sys

    seed, stage, modality, checkpoint = job
    torch.set_num_threads(threads)
    if log_file:
        sys.stdout = sys.stderr = open(log_file, 'w', buffering=1)
    return asdict(finetune_run(checkpoint, modality, seed, **options))


def run_finetune_jobs(jobs: list[tuple], *, work_dir: str, data_root: str,
                      splits_file: Optional[str], epochs: Optional[int] = None,
                      cfg_options: Optional[dict] = None, workers: int = 1,
                      threads: int = 1) -> dict:
    """Run the jobs, ``workers`` at a time in processes (logs in
    ``work_dir/seed_N/finetune/<stage>_<modality>.log``; 0: one after another here).

    Returns:
        ``{seed: {modality: {stage: FinetuneResult as dict}}}``.
    """
    import concurrent.futures as cf
    import multiprocessing as mp
    import os

    results: dict = {}

    def options(seed, stage, modality) -> dict:
        return dict(data_root=data_root, splits_file=splits_file, epochs=epochs,
                    cfg_options=cfg_options,
                    work_dir=osp.join(work_dir, f'seed_{seed}', 'finetune', f'{stage}_{modality}'))

    def store(job, result) -> None:
        seed, stage, modality, _ = job
        results.setdefault(seed, {}).setdefault(modality, {})[stage] = result
        print(f'[seed {seed}] fine-tuned {stage} ({modality}): held-out accuracy '
              f'{result["accuracy"]:.3f}, training {result["train_seconds"]:.0f} s', flush=True)

    if workers <= 0:
        for job in jobs:
            store(job, _job(job, options(*job[:3]), None, threads))
        return results
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context('spawn'),
                                max_tasks_per_child=1) as pool:
        futures = {}
        for job in jobs:
            opts = options(*job[:3])
            os.makedirs(opts['work_dir'], exist_ok=True)
            futures[pool.submit(_job, job, opts, opts['work_dir'] + '.log', threads)] = job
        for future in cf.as_completed(futures):
            job = futures[future]
            try:
                store(job, future.result())
            except Exception as e:
                for f in futures:
                    f.cancel()
                raise RuntimeError(f'fine-tuning {job[1]} ({job[2]}, seed {job[0]}) failed: {e}; '
                                   f'see {options(*job[:3])["work_dir"]}.log') from e
    return results
