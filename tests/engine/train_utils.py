"""Helpers for tests that run the training tools in subprocesses."""
import glob
import json
import os
import random
import subprocess
import sys
from pathlib import Path


def run_train(repo: Path, config: Path, work_dir: Path, env: dict, *extra: str,
              timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(repo / 'tools' / 'train.py'), str(config), '--work-dir',
           str(work_dir), *extra]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True,
                          timeout=timeout)


def run_two_processes(repo: Path, worker: str, *args: str, env: dict,
                      timeout: float = 120) -> subprocess.CompletedProcess:
    """``tests/engine/<worker>`` in 2 CPU processes under ``torch.distributed.run``."""
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           f'--master_port={random.randint(20000, 40000)}',
           str(repo / 'tests' / 'engine' / worker), *args]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True,
                          timeout=timeout)


def logged_scalars(work_dir: Path) -> list[dict]:
    """All records of MMEngine's scalars.json files under ``work_dir`` (oldest run first)."""
    records = []
    for path in sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def assert_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, f'exit {proc.returncode}\n{proc.stdout[-3000:]}\n' \
                                 f'{proc.stderr[-5000:]}'
