"""The dataset tools and the benchmark are scripts; tests import them by path."""
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_script(relative_path: str) -> ModuleType:
    """Import ``REPO/relative_path`` as a module (once per session)."""
    name = 'script_' + relative_path.replace('/', '_').replace('.py', '')
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / relative_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope='session')
def build_annotations() -> ModuleType:
    return load_script('tools/data/build_annotations.py')


@pytest.fixture(scope='session')
def compute_audio_stats() -> ModuleType:
    return load_script('tools/data/compute_audio_stats.py')


@pytest.fixture(scope='session')
def preprocess() -> ModuleType:
    return load_script('tools/data/preprocess.py')
