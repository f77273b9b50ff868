import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / 'tests' / 'fixtures' / 'configs' / 'tiny_stage1.py'


@pytest.fixture(scope='session')
def repo() -> Path:
    return REPO


@pytest.fixture(scope='session')
def tiny_config() -> Path:
    return TINY_CONFIG


@pytest.fixture(scope='session')
def subprocess_env() -> dict:
    """Environment for tool subprocesses: this interpreter first on PATH, repo importable."""
    env = dict(os.environ)
    env['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{env.get("PATH", "")}'
    env['PYTHON'] = sys.executable
    env['PYTHONPATH'] = f'{REPO}{os.pathsep}{env.get("PYTHONPATH", "")}'
    env.setdefault('OMP_NUM_THREADS', '1')
    return env
