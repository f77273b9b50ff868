"""Shared fixtures for the model tests: a fixed seed and the tiny stage-1 config."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_CFG = REPO_ROOT / 'tests' / 'fixtures' / 'configs' / 'tiny_stage1.py'


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope='session')
def _tiny_cfg() -> Config:
    return Config.fromfile(str(TINY_CFG))


@pytest.fixture
def tiny_model_cfg(_tiny_cfg):
    """A fresh (deep-copied) tiny ``model`` config dict, safe to edit in a test."""
    return copy.deepcopy(_tiny_cfg.model)


@pytest.fixture
def tiny_inputs():
    """Inputs matching the tiny config: audio [4, 1, 64, 32], video [4, 3, 4, 32, 32]."""
    return {'audio': torch.randn(4, 1, 64, 32), 'video': torch.randn(4, 3, 4, 32, 32)}
