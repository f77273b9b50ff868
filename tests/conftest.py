import os
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / 'tests' / 'fixtures' / 'configs' / 'tiny_stage1.py'
TINY_STAGE1 = TINY_CONFIG
TINY_STAGE2 = REPO / 'tests' / 'fixtures' / 'configs' / 'tiny_stage2.py'


@pytest.fixture(scope='session', autouse=True)
def _bf16_probe_cache(tmp_path_factory):
    """bf16 probes (mavil/hardware.py) of tests and their subprocesses are cached in a
    temporary folder, never in the user's ~/.cache/mavil."""
    patch = pytest.MonkeyPatch()
    patch.setenv('MAVIL_CACHE_DIR', str(tmp_path_factory.mktemp('mavil_cache')))
    yield
    patch.undo()


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


@pytest.fixture(scope='session')
def stage1_cfg() -> Config:
    """The tiny stage-1 config (tests/fixtures/configs/tiny_stage1.py)."""
    return Config.fromfile(str(TINY_STAGE1))


@pytest.fixture(scope='session')
def stage2_cfg() -> Config:
    """The tiny stage-2 config (tests/fixtures/configs/tiny_stage2.py)."""
    return Config.fromfile(str(TINY_STAGE2))
