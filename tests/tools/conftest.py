"""The dataset tools and the benchmark are scripts; tests import them by path."""
from pathlib import Path
from types import ModuleType

import pytest

from tests.engine.train_utils import assert_ok, run_train
from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='session')
def build_annotations() -> ModuleType:
    return load_script('tools/data/build_annotations.py')


@pytest.fixture(scope='session')
def compute_audio_stats() -> ModuleType:
    return load_script('tools/data/compute_audio_stats.py')


@pytest.fixture(scope='session')
def preprocess() -> ModuleType:
    return load_script('tools/data/preprocess.py')


# The synthetic stream the tiny fine-tuning configs use (8 classes, noise_std 1.0), 256 clips;
# 1000 steps are enough for the pre-trained audio encoder to beat random features clearly.
PRETRAIN_ITERS = 1000
PRETRAIN_OPTIONS = (
    f'train_cfg.max_iters={PRETRAIN_ITERS}', 'train_dataloader.dataset.num_classes=8',
    'train_dataloader.dataset.noise_std=1.0', 'train_dataloader.dataset.num_samples=256',
    # one endless pass: MMEngine's iteration loop sleeps 2 s whenever a dataloader restarts
    'train_dataloader.sampler.type=InfiniteSampler',
    f'default_hooks.checkpoint.interval={PRETRAIN_ITERS}', 'default_hooks.logger.interval=200')


@pytest.fixture(scope='session')
def pretrained_ckpt(repo, tiny_config, subprocess_env, tmp_path_factory) -> Path:
    work_dir = tmp_path_factory.mktemp('tiny_pretrain')
    proc = run_train(repo, tiny_config, work_dir, subprocess_env, '--cfg-options',
                     *PRETRAIN_OPTIONS)
    assert_ok(proc)
    ckpt = work_dir / f'iter_{PRETRAIN_ITERS}.pth'
    assert ckpt.is_file()
    return ckpt


@pytest.fixture(scope='session')
def build_cache_tool() -> ModuleType:
    return load_script('tools/data/build_cache.py')
