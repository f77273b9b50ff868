"""Skipped clips never crash a run below the skip limit: a batch shrunk below 2 (or emptied)
by skips is a skipped step (no update), counted and logged with its files; every skip is
logged with its step, and each epoch ends with a summary."""
import json
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from mavil.engine import MAViLRunner, SkippedSampleHook
from mavil.structures import AVDataSample
from . import skip_data  # noqa: F401  (registers PartlyUnreadableDataset)
from .train_utils import assert_ok, run_two_processes


def fake_runner(logged: list, step: int = 0):
    return SimpleNamespace(iter=step, epoch=0, logger=SimpleNamespace(warning=logged.append),
                           message_hub=SimpleNamespace(update_scalar=lambda k, v: None))


def batch(readable: int, unreadable: int) -> dict:
    return dict(data_samples=[AVDataSample(metainfo=dict(filename=f'ok_{i}.mp4'))
                              for i in range(readable)],
                skipped=[dict(index=i, filename=f'bad_{i}.mp4', reason='corrupt')
                         for i in range(unreadable)])


def test_small_batches_become_skipped_steps_with_their_files():
    logged = []
    hook = SkippedSampleHook(max_skip_ratio=0.9, min_samples=1000)
    shrunk, empty, fine = batch(1, 3), batch(0, 4), batch(3, 1)
    hook.before_train_iter(fake_runner(logged, 4), 4, shrunk)
    hook.before_train_iter(fake_runner(logged, 5), 5, empty)
    hook.before_train_iter(fake_runner(logged, 6), 6, fine)
    assert shrunk.get('skip_step') and empty.get('skip_step') and 'skip_step' not in fine
    assert hook.skipped_steps == 2
    assert hook.seen['train'] == 12 and hook.skipped['train'] == 9  # 4 + 4 + 1
    assert any('step 5: step skipped without an update: 1 readable clip(s) left (ok_0.mp4)'
               in m for m in logged), logged


def test_same_clip_skipped_again_is_logged_again_and_summarised():
    logged = []
    hook = SkippedSampleHook(max_skip_ratio=0.9, min_samples=1000)
    for step in (0, 1):
        hook.before_train_iter(fake_runner(logged, step), step, batch(3, 1))
    lines = [m for m in logged if 'bad_0.mp4' in m]
    assert lines[0].startswith('step 1:') and lines[1].startswith('step 2:')
    hook.after_train_epoch(fake_runner(logged))
    assert 'epoch 1: 2 clip(s) skipped (1 distinct)' in logged[-1]
    assert 'bad_0.mp4 (corrupt) x2' in logged[-1]


def test_skip_limit_still_stops_the_run():
    hook = SkippedSampleHook(max_skip_ratio=0.5, min_samples=4)
    with pytest.raises(RuntimeError, match=r'4 of 4 training clips .* 1 steps that had too few'):
        hook.before_train_iter(fake_runner([]), 0, batch(1, 3))


def test_training_runs_through_shrunk_and_empty_batches(tiny_config, tmp_path):
    cfg = Config.fromfile(str(tiny_config))
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    # batch 2 keeps one clip (the contrastive losses need 2), batch 3 keeps none
    cfg.train_dataloader.dataset = dict(type='PartlyUnreadableDataset', unreadable=[2, 4, 5],
                                        num_samples=8, audio_size=(1, 64, 32),
                                        video_size=(3, 4, 32, 32))
    cfg.train_cfg.max_iters = 4
    cfg.custom_hooks = [dict(type='SkippedSampleHook', max_skip_ratio=0.9, min_samples=1)]
    runner = MAViLRunner.from_cfg(cfg)
    weights = {}

    def remember(module, args, kwargs):  # the weights at the start of each forward
        weights[runner.iter] = next(runner.model.parameters()).detach().clone()

    runner.model.register_forward_pre_hook(remember, with_kwargs=True)
    runner.train()
    assert sorted(weights) == [0, 3]  # steps 2 and 3 ran no forward
    hook = next(h for h in runner.hooks if isinstance(h, SkippedSampleHook))
    assert hook.skipped_steps == 2 and hook.skipped['train'] == 4
    assert runner.message_hub.get_scalar('train/skipped_steps').current() == 2


def test_ddp_ranks_agree_on_skipped_steps_and_nan(repo, subprocess_env, tmp_path):
    out = tmp_path / 'result'
    proc = run_two_processes(repo, 'dist_skip_worker.py', str(out), env=subprocess_env)
    assert_ok(proc)
    ranks = [json.loads((tmp_path / f'result.{r}').read_text()) for r in (0, 1)]
    for result in ranks:
        assert result['first_skipped'] and not result['second_skipped']
        assert result['seen'] == 2 + 5 + 4 + 4 and result['lost'] == 7  # global counts
        assert result['nan_error'] and 'non-finite loss' in result['nan_error']
    assert 'fewer than min_batch_size=2' in ' '.join(ranks[0]['logged'])
    assert 'another process has too few' in ' '.join(ranks[1]['logged'])
    assert '(here)' in ranks[1]['nan_error'] and 'another process' in ranks[0]['nan_error']


def test_eval_batch_without_readable_clips_is_not_run():
    from mavil.engine.skipping import SkipAwareTestLoop
    calls = []
    loop = SkipAwareTestLoop.__new__(SkipAwareTestLoop)
    loop._runner = SimpleNamespace(call_hook=lambda name, **kw: calls.append(name),
                                   model=SimpleNamespace(test_step=lambda b: 1 / 0))
    loop.run_iter(0, batch(0, 2))
    assert calls == ['before_test_iter', 'after_test_iter']

