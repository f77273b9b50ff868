"""One training run per work dir: a second writer is refused, a dead run's lock taken over."""
import json
import os
import socket
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.hooks import Hook

from mavil.engine import MAViLRunner
from mavil.engine.work_dir_lock import LOCK_NAME, WorkDirLock, WorkDirLockedError


def tiny_runner(tiny_config, work_dir, **overrides) -> MAViLRunner:
    cfg = Config.fromfile(str(tiny_config))
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(dict({'train_cfg.max_iters': 2}, **overrides))
    return MAViLRunner.from_cfg(cfg)


@pytest.fixture
def live_pid():
    """A process of this host that stays alive during the test."""
    proc = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    yield proc.pid
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def write_lock(work_dir, pid: int, host: str) -> None:
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / LOCK_NAME).write_text(json.dumps(dict(
        pid=pid, host=host, started='2026-01-01T00:00:00', command='tools/train.py other.py')))


def test_a_second_run_in_a_held_work_dir_is_refused(tiny_config, tmp_path, live_pid):
    write_lock(tmp_path, live_pid, socket.gethostname())
    runner = tiny_runner(tiny_config, tmp_path)
    with pytest.raises(WorkDirLockedError, match=rf'in use by another training run \(pid '
                       rf'{live_pid} on {socket.gethostname()}, started 2026-01-01T00:00:00: '
                       r"'tools/train.py other.py'\)"):
        runner.train()
    assert not list(tmp_path.glob('*.pth'))  # nothing written beside the other run's files
    assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == live_pid  # left alone


def test_the_lock_names_this_run_while_training_and_is_released(tiny_config, tmp_path):
    seen = []

    class ReadLock(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            seen.append(json.loads((tmp_path / LOCK_NAME).read_text()))

    runner = tiny_runner(tiny_config, tmp_path)
    runner.register_hook(ReadLock())
    runner.train()
    assert {(s['pid'], s['host']) for s in seen} == {(os.getpid(), socket.gethostname())}
    assert not (tmp_path / LOCK_NAME).exists() and (tmp_path / 'iter_2.pth').is_file()


def test_a_dead_runs_lock_is_taken_over_with_a_warning(tmp_path):
    pid = dead_pid()
    write_lock(tmp_path, pid, socket.gethostname())
    warnings = []
    lock = WorkDirLock(str(tmp_path))
    lock.acquire(warnings.append)
    assert len(warnings) == 1 and f'pid {pid}' in warnings[0] and 'taking' in warnings[0]
    assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == os.getpid()
    with pytest.raises(WorkDirLockedError, match=f'pid {os.getpid()}'):
        WorkDirLock(str(tmp_path)).acquire(warnings.append)  # held: a second writer
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_from_another_host_or_unreadable_is_never_taken_over(tmp_path):
    write_lock(tmp_path, dead_pid(), 'other-node-7')
    with pytest.raises(WorkDirLockedError, match='on other-node-7'):
        WorkDirLock(str(tmp_path)).acquire(pytest.fail)
    (tmp_path / LOCK_NAME).write_text('{"pid": ')
    with pytest.raises(WorkDirLockedError, match='cannot be read'):
        WorkDirLock(str(tmp_path)).acquire(pytest.fail)
    assert (tmp_path / LOCK_NAME).read_text() == '{"pid": '
