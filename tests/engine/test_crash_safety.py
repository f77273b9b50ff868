"""Crash matrix and untrusted checkpoints: resume never unpickles code, and a crash (kill
between write and rename, disk full) at any save leaves a checkpoint to resume from."""
import errno
import os
from pathlib import Path

import mmengine.runner.runner as mmengine_runner
import pytest
import torch
from mmengine.config import Config

from mavil.engine import MAViLRunner
from mavil.weights.checkpoint_io import load_checkpoint_file


class SimulatedKill(BaseException):
    """Stands for SIGKILL: no ``except Exception`` clean-up runs."""


class Payload:
    """Unpickling this creates ``marker``: stands for code planted in a checkpoint."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (Path(self.marker), )


def tiny_runner(tiny_config, work_dir, *, keep: int = -1, **overrides) -> MAViLRunner:
    cfg = Config.fromfile(str(tiny_config))
    cfg.work_dir = str(work_dir)
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=keep)
    cfg.merge_from_dict(overrides)
    return MAViLRunner.from_cfg(cfg)


def checkpoints(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob('*.pth'))


def pointer(folder: Path) -> str:
    return (folder / 'last_checkpoint').read_text()


def crash_at_save(monkeypatch, name: str, how: str) -> type:
    """Make the save of ``name`` die: killed between write and rename, or disk full."""
    if how == 'kill':
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if str(dst).endswith(name):
                raise SimulatedKill(dst)
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr('mavil.engine.runner.os.replace', replace)
        return SimulatedKill
    real_save = mmengine_runner.save_checkpoint

    def save(checkpoint, filename, *args, **kwargs):
        if name in str(filename):
            Path(filename).write_bytes(b'PK\x03\x04 half a checkpoint')
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_save(checkpoint, filename, *args, **kwargs)

    monkeypatch.setattr(mmengine_runner, 'save_checkpoint', save)
    return OSError


@pytest.mark.parametrize('keep,how', [(1, 'kill'), (3, 'kill'), (1, 'disk_full')])
def test_crash_during_save_resumes_from_newest_intact(tiny_config, tmp_path, monkeypatch,
                                                      keep, how):
    last = keep + 1  # the save that dies is the first one that would delete an old file
    runner = tiny_runner(tiny_config, tmp_path, keep=keep, **{'train_cfg.max_iters': last})
    error = crash_at_save(monkeypatch, f'iter_{last}.pth', how)
    with pytest.raises(error) as info:
        runner.train()
    monkeypatch.undo()
    kept = [f'iter_{i}.pth' for i in range(1, last)][-keep:]
    assert checkpoints(tmp_path) == sorted(kept), 'an old checkpoint was deleted before the ' \
                                                  'new one was in place'
    assert pointer(tmp_path) == str(tmp_path / f'iter_{last - 1}.pth')
    if how == 'kill':  # a killed process leaves its partial file behind
        assert (tmp_path / f'iter_{last}.pth.tmp').exists()
    else:
        assert 'previous checkpoints are intact' in str(info.value)
        assert not list(tmp_path.glob('*.tmp'))

    resumed = tiny_runner(tiny_config, tmp_path, keep=keep, resume=True,
                          **{'train_cfg.max_iters': last + 1})
    resumed.load_or_resume()
    assert resumed.iter == last - 1
    assert not list(tmp_path.glob('*.tmp')), 'stale partial checkpoint not removed'


def fake_checkpoint(path: Path, step: int, mtime: float) -> None:
    torch.save({'meta': {'iter': step}, 'state_dict': {}}, path)
    os.utime(path, (mtime, mtime))


def test_stale_pointer_and_broken_newest_fall_back_with_a_message(tmp_path):
    from mavil.engine.resume import newest_intact_checkpoint
    fake_checkpoint(tmp_path / 'iter_1.pth', 1, 1000)
    fake_checkpoint(tmp_path / 'iter_2.pth', 2, 2000)
    (tmp_path / 'iter_3.pth').write_bytes(b'PK\x03\x04 truncated')
    os.utime(tmp_path / 'iter_3.pth', (3000, 3000))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))  # deleted
    messages = []
    path, ckpt = newest_intact_checkpoint(str(tmp_path), load_checkpoint_file, messages.append)
    assert path == str(tmp_path / 'iter_2.pth') and ckpt['meta']['iter'] == 2
    assert any('iter_3.pth cannot be read' in m for m in messages), messages
    assert any('last_checkpoint names' in m and 'iter_4.pth (a missing file)' in m
               for m in messages), messages
    assert newest_intact_checkpoint(str(tmp_path / 'empty'), load_checkpoint_file,
                                    messages.append) is None


@pytest.mark.parametrize('explicit', [True, False])
def test_resume_never_unpickles_code(tiny_config, tmp_path, explicit):
    runner = tiny_runner(tiny_config, tmp_path, **{'train_cfg.max_iters': 1})
    runner.train()
    path = tmp_path / 'iter_1.pth'
    checkpoint = load_checkpoint_file(str(path))
    marker = tmp_path / 'code_ran'
    checkpoint['meta']['payload'] = Payload(str(marker))
    torch.save(checkpoint, path)
    options = dict(resume=True, load_from=str(path) if explicit else None)
    resumed = tiny_runner(tiny_config, tmp_path, **options, **{'train_cfg.max_iters': 2})
    with pytest.raises(RuntimeError, match=r'resuming .*iter_1\.pth.*--unsafe-load'):
        resumed.load_or_resume()
    assert not marker.exists(), 'resume ran code from the checkpoint'
    if explicit:  # the opt-in unpickles it, as documented
        trusting = tiny_runner(tiny_config, tmp_path, unsafe_load=True, **options,
                               **{'train_cfg.max_iters': 2})
        trusting.load_or_resume()
        assert marker.exists() and trusting.iter == 1
