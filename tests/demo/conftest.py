"""Fixtures for the demo tests: one small generated demo dataset shared by the module."""
from pathlib import Path

import pytest

from mavil.demo.generator import DemoDataConfig, generate

SMALL = DemoDataConfig(num_clips=16, seed=3)


@pytest.fixture(scope='session')
def small_demo(tmp_path_factory) -> Path:
    """16 clips (2 per class), written with 2 worker processes."""
    root = tmp_path_factory.mktemp('demo_data')
    generate(root, SMALL, workers=2, progress=False)
    return root
