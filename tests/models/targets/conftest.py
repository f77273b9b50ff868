"""Fixtures for the teacher-target tests: a tiny stage-1 teacher checkpoint and builders
for tiny students."""
import copy
from pathlib import Path

import pytest
import torch

import mavil.models  # noqa: F401  (registers the components)
from mavil.registry import MODELS
from tests.conftest import TINY_STAGE1


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def save_model(model: torch.nn.Module, path: Path) -> str:
    """A checkpoint shaped like the runner's: {'meta', 'state_dict'}."""
    torch.save({'meta': {'iter': 30}, 'state_dict': model.state_dict()}, path)
    return str(path)


@pytest.fixture(scope='session')
def teacher_ckpt(stage1_cfg, tmp_path_factory) -> str:
    """A tiny stage-1 MAViL with non-trivial weights (random, then perturbed)."""
    torch.manual_seed(1)
    model = MODELS.build(copy.deepcopy(stage1_cfg.model))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return save_model(model, tmp_path_factory.mktemp('teacher') / 'iter_30.pth')


@pytest.fixture
def build_student(stage2_cfg, teacher_ckpt):
    """build_student(edit=None, **target_overrides) -> a tiny stage-2 MAViL; ``edit(cfg)``
    may change the student's model config in place."""

    def build(edit=None, **target):
        cfg = copy.deepcopy(stage2_cfg.model)
        cfg.target.teacher_config = str(TINY_STAGE1)
        cfg.target.teacher_ckpt = teacher_ckpt
        cfg.target.autocast = False  # exact comparisons; bf16 is tested on its own
        cfg.target.update(target)
        if edit is not None:
            edit(cfg)
        return MODELS.build(cfg)

    return build


@pytest.fixture
def inputs():
    return {'audio': torch.randn(4, 1, 64, 32), 'video': torch.randn(4, 3, 4, 32, 32)}
