"""Scheduler bounds follow warmup_epochs / train_cfg.max_epochs (Table 5c: 15 / 25 epochs)."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mavil.engine.schedules import resolve_epoch_schedule

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('epochs', [15, 20, 25])
def test_pretraining_cosine_follows_max_epochs(epochs):
    cfg = Config.fromfile(REPO / 'configs' / 'mavil' / 'stage1.py')
    cfg.merge_from_dict({'train_cfg.max_epochs': epochs})
    resolve_epoch_schedule(cfg)
    warm, decay = cfg.param_scheduler
    assert (warm.begin, warm.end) == (0, 4)
    assert (decay.begin, decay.end, decay.T_max) == (4, epochs, epochs - 4)


def test_finetuning_schedule_follows_warmup_and_epochs():
    cfg = Config.fromfile(REPO / 'configs' / 'finetune' / 'as2m_audio.py')
    cfg.merge_from_dict({'warmup_epochs': 10, 'train_cfg.max_epochs': 50})
    resolve_epoch_schedule(cfg)
    assert [(s.begin, s.end) for s in cfg.param_scheduler] == [(0, 10), (10, 50)]
    assert cfg.param_scheduler[1].T_max == 40


def test_disagreeing_bounds_fail_loudly():
    cfg = Config.fromfile(REPO / 'configs' / 'mavil' / 'stage1.py')
    cfg.merge_from_dict({'train_cfg.max_epochs': 25})
    cfg.param_scheduler[1].end = 20  # an old-style hard-coded bound
    with pytest.raises(ValueError, match=r'end=20 disagrees with train_cfg.max_epochs \(= 25\)'):
        resolve_epoch_schedule(cfg)
    cfg.param_scheduler[1].end = None
    cfg.warmup_epochs = 30
    with pytest.raises(ValueError, match='warmup_epochs=30'):
        resolve_epoch_schedule(cfg)


def test_iteration_schedules_are_left_alone(tiny_config):
    cfg = Config.fromfile(tiny_config)  # warmup_epochs inherited, ConstantLR by iterations
    before = [dict(s) for s in cfg.param_scheduler]
    resolve_epoch_schedule(cfg)
    assert [dict(s) for s in cfg.param_scheduler] == before


def test_runner_resolves_the_schedule(tiny_config, tmp_path):
    from mavil.apis.stages import build_runner
    cfg = Config.fromfile(tiny_config)
    cfg.merge_from_dict({
        'warmup_epochs': 1,
        'train_cfg': dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=3),
        'param_scheduler': [
            dict(type='LinearLR', start_factor=0.1, by_epoch=True),
            dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True)],
        'work_dir': str(tmp_path)})
    runner = build_runner(cfg)
    assert [(s['begin'], s['end']) for s in runner.cfg.param_scheduler] == [(0, 1), (1, 3)]
