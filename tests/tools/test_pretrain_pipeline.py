"""tools/pretrain_pipeline.py: stage 1 -> iter 1 -> iter 2 -> iter 3 on the tiny config,
killed between stages and inside a stage, then re-run to completion."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mavil.apis.stages import final_checkpoint_name
from mavil.weights.checkpoint_io import load_checkpoint_file
from tests.conftest import REPO, TINY_STAGE1, TINY_STAGE2
from .conftest import load_script

STAGES = ['stage1', 'stage2_iter1', 'stage2_iter2', 'stage2_iter3']


def pipeline_cmd(work_root: Path) -> list[str]:
    return [sys.executable, str(REPO / 'tools' / 'pretrain_pipeline.py'), str(TINY_STAGE1),
            '--iters', '3', '--stage2-configs', str(TINY_STAGE2), '--work-root', str(work_root),
            '--cfg-options', 'train_cfg.max_iters=20']  # checkpoints at iterations 10 and 20


def run_until(cmd, log: Path, env: dict, stop_file: Path, timeout: float = 240) -> None:
    """Start the pipeline, SIGKILL its whole process group once ``stop_file`` exists."""
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        deadline = time.time() + timeout
        try:
            while not stop_file.exists():
                assert proc.poll() is None, log.read_text()[-4000:]
                assert time.time() < deadline, f'{stop_file} did not appear'
                time.sleep(0.05)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_chain_runs_and_resumes_after_kills(subprocess_env, tmp_path):
    root = tmp_path / 'work_dirs'
    cmd = pipeline_cmd(root)
    # 1. killed between stages: right after stage 1's final checkpoint appears
    run_until(cmd, tmp_path / 'run1.log', subprocess_env, root / 'stage1' / 'iter_20.pth')
    assert not (root / 'stage2_iter1' / 'iter_10.pth').exists()
    # 2. killed inside iteration 1, after its first (partial) checkpoint
    run_until(cmd, tmp_path / 'run2.log', subprocess_env, root / 'stage2_iter1' / 'iter_10.pth')
    run2 = (tmp_path / 'run2.log').read_text()
    assert 'stage1: final checkpoint' in run2 and 'exists, skipping' in run2
    assert not (root / 'stage2_iter1' / 'iter_20.pth').exists()
    # 3. re-run to completion
    proc = subprocess.run(cmd, cwd=REPO, env=subprocess_env, capture_output=True, text=True,
                          timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert f'stage1: final checkpoint {root}/stage1/iter_20.pth exists, skipping' in out
    assert f'stage2_iter1: resuming from {root}/stage2_iter1/iter_10.pth' in out
    assert 'resumed epoch: 0, iter: 10' in out
    assert f'stage2_iter2: training in {root}/stage2_iter2' in out
    assert 'all stages complete' in out

    # each iteration's teacher is the previous stage's final checkpoint
    for prev, stage in zip(STAGES, STAGES[1:]):
        ckpt = load_checkpoint_file(str(root / stage / 'iter_20.pth'))
        recorded = ckpt['state_dict']['target._extra_state']
        assert recorded['teacher_ckpt'] == str(root / prev / 'iter_20.pth')
        assert not [k for k in ckpt['state_dict'] if k.startswith('target.teacher')]
    state = json.loads((root / 'pipeline.json').read_text())
    assert [s['status'] for s in state] == ['done'] * 4

    # importable entry point (e.g. for a demo): everything done, nothing to run
    pipeline = load_script('tools/pretrain_pipeline.py')
    finals = pipeline.main(cmd[2:] + ['--dry-run'])
    assert finals == {s: str(root / s / 'iter_20.pth') for s in STAGES}


def test_plan_for_the_paper_configs(tmp_path, capsys):
    """Dry run: default stage-2 configs next to stage1.py, the last reused past iteration 3,
    each teacher = the previous stage's final checkpoint, nothing executed."""
    pipeline = load_script('tools/pretrain_pipeline.py')
    root = tmp_path / 'wd'
    finals = pipeline.main([str(REPO / 'configs/mavil/stage1.py'), '--iters', '4', '--work-root',
                            str(root), '--gpus', '8', '--dry-run'])
    assert finals == {'stage1': f'{root}/stage1/epoch_20.pth',
                      **{f'stage2_iter{k}': f'{root}/stage2_iter{k}/epoch_20.pth'
                         for k in range(1, 5)}}
    out = capsys.readouterr().out
    assert 'tools/dist_train.sh' in out and ' 8 --work-dir' in out
    assert 'stage2_iter3.py 8 --work-dir ' + f'{root}/stage2_iter4' in out  # reused
    assert (f'model.target.teacher_ckpt={root}/stage2_iter2/epoch_20.pth' in out)
    assert not root.exists()


def test_final_checkpoint_name_rules(stage1_cfg):
    assert final_checkpoint_name(stage1_cfg, 'tiny') == 'iter_30.pth'
    epoch_cfg = stage1_cfg.copy()
    epoch_cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=7)
    epoch_cfg.default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
    assert final_checkpoint_name(epoch_cfg, 'e') == 'epoch_7.pth'
    epoch_cfg.default_hooks.checkpoint.by_epoch = False  # iteration count unknown up front
    with pytest.raises(ValueError, match='cannot tell the final checkpoint name'):
        final_checkpoint_name(epoch_cfg, 'e')
    epoch_cfg.default_hooks.checkpoint.update(by_epoch=True, save_last=False)
    assert final_checkpoint_name(epoch_cfg, 'e') == 'epoch_7.pth'  # interval 1
    epoch_cfg.default_hooks.checkpoint.interval = 2
    with pytest.raises(ValueError, match='save_last=False skips the final checkpoint'):
        final_checkpoint_name(epoch_cfg, 'e')
