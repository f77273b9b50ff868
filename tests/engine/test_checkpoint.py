"""Checkpoint policy: atomic writes, weights-only loading, trusted resume, load_from."""
import math

import pytest
import torch
from mmengine.config import Config

from mavil.engine import MAViLRunner
from mavil.weights.checkpoint_io import load_checkpoint_file


class NotPlainData:  # an arbitrary pickled object: refused by weights-only loading
    pass


def tiny_runner(tiny_config, work_dir, **overrides) -> MAViLRunner:
    cfg = Config.fromfile(str(tiny_config))
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(overrides)
    return MAViLRunner.from_cfg(cfg)


def test_runner_checkpoint_loads_weights_only(tiny_config, tmp_path):
    runner = tiny_runner(tiny_config, tmp_path, **{'train_cfg.max_iters': 2})
    runner.train()
    ckpt = load_checkpoint_file(str(tmp_path / 'iter_2.pth'), trusted=False)
    assert {'state_dict', 'optimizer', 'message_hub', 'meta'} <= set(ckpt)


def test_untrusted_pickle_refused_with_way_out(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': NotPlainData()}, path)
    with pytest.raises(RuntimeError, match='--unsafe-load'):
        load_checkpoint_file(str(path))
    assert isinstance(load_checkpoint_file(str(path), trusted=True)['payload'], NotPlainData)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_save_is_atomic_when_interrupted(tiny_config, tmp_path, monkeypatch):
    runner = tiny_runner(tiny_config, tmp_path, **{'train_cfg.max_iters': 2})
    runner.train()
    path = tmp_path / 'iter_2.pth'
    before = load_checkpoint_file(str(path))['state_dict']

    def dies_mid_write(obj, f, *args, **kwargs):
        f.write(b'partial bytes')
        raise KeyboardInterrupt('killed during save')

    monkeypatch.setattr(torch, 'save', dies_mid_write)
    with pytest.raises(KeyboardInterrupt):
        runner.save_checkpoint(str(tmp_path), 'iter_2.pth')
    monkeypatch.undo()
    after = load_checkpoint_file(str(path))['state_dict']
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_load_from_initialises_weights(tiny_config, tmp_path):
    first = tiny_runner(tiny_config, tmp_path / 'a', **{'train_cfg.max_iters': 2})
    first.train()
    ckpt = str(tmp_path / 'a' / 'iter_2.pth')
    second = tiny_runner(tiny_config, tmp_path / 'b', load_from=ckpt,
                         **{'train_cfg.max_iters': 1})
    second.load_or_resume()
    trained = load_checkpoint_file(ckpt)['state_dict']
    loaded = second.model.state_dict()
    assert all(torch.equal(trained[k], loaded[k]) for k in trained)


def test_non_finite_loss_stops_with_step_and_terms(tiny_config, tmp_path):
    runner = tiny_runner(tiny_config, tmp_path, **{
        'train_cfg.max_iters': 3,
        'train_dataloader.dataset.noise_std': math.nan
    })
    with pytest.raises(FloatingPointError, match=r'step 1: .*loss_rec_audio'):
        runner.train()
