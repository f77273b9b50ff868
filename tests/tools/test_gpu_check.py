"""benchmarks/gpu_check.sh (run on GPU machines only): valid bash, and every test file and
script it names exists in the repository."""
import re
import shutil
import subprocess

import pytest

from .conftest import REPO

SCRIPT = REPO / 'benchmarks' / 'gpu_check.sh'


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
def test_gpu_check_is_valid_bash():
    subprocess.run(['bash', '-n', str(SCRIPT)], check=True)


def test_gpu_check_names_existing_files():
    named = set(re.findall(r'\b((?:tests|benchmarks)/[\w/.-]+)', SCRIPT.read_text()))
    assert {'tests/gpu', 'benchmarks/gpu_step.py', 'benchmarks/gpu_decode.py'} <= named
    missing = sorted(p for p in named if not (REPO / p).exists())
    assert not missing, f'benchmarks/gpu_check.sh names missing paths: {missing}'
