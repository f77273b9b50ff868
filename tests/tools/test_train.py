"""tools/train.py end to end on the tiny config: loss goes down, resume after a kill, AMP."""
import signal
import subprocess
import sys
import time

from tests.engine.train_utils import assert_ok, logged_scalars, run_train


def test_tiny_training_loss_goes_down(repo, tiny_config, subprocess_env, tmp_path):
    proc = run_train(repo, tiny_config, tmp_path, subprocess_env, '--cfg-options',
                     'train_cfg.max_iters=40')
    assert_ok(proc)
    losses = [r['loss'] for r in logged_scalars(tmp_path) if 'loss' in r]
    assert len(losses) == 8, losses  # logged every 5 iterations
    assert all(k in logged_scalars(tmp_path)[0] for k in
               ('loss_rec_audio', 'loss_rec_video', 'loss_nce_inter', 'loss_nce_intra'))
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.85 * first, f'loss did not go down: {losses}'
    assert (tmp_path / 'iter_40.pth').is_file()
    assert not list(tmp_path.glob('*.tmp')), 'temporary checkpoint files left behind'


def test_bf16_amp_runs(repo, tiny_config, subprocess_env, tmp_path):
    proc = run_train(repo, tiny_config, tmp_path, subprocess_env, '--amp', '--cfg-options',
                     'train_cfg.max_iters=5')
    assert_ok(proc)
    assert 'AutocastOptimWrapper' in (tmp_path / 'tiny_stage1.py').read_text()


def test_kill_then_resume_continues_from_saved_iteration(repo, tiny_config, subprocess_env,
                                                          tmp_path):
    cmd = [sys.executable, str(repo / 'tools' / 'train.py'), str(tiny_config), '--work-dir',
           str(tmp_path), '--cfg-options', 'train_cfg.max_iters=400']
    proc = subprocess.Popen(cmd, cwd=repo, env=subprocess_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 240
    try:
        while not (tmp_path / 'iter_20.pth').exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.time() < deadline, 'no checkpoint within the time limit'
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    saved = sorted(int(p.stem.split('_')[1]) for p in tmp_path.glob('iter_*.pth'))
    last_saved = saved[-1]
    assert last_saved >= 20 and last_saved < 400

    resumed = run_train(repo, tiny_config, tmp_path, subprocess_env, '--resume',
                        '--cfg-options', f'train_cfg.max_iters={last_saved + 10}')
    assert_ok(resumed)
    assert f'resumed epoch: 0, iter: {last_saved}' in resumed.stderr + resumed.stdout
    logged_iters = [r['iter'] for r in logged_scalars(tmp_path) if 'loss' in r]
    # the resumed run logs only iterations after the checkpoint
    assert logged_iters[-1] == last_saved + 10
    assert (tmp_path / f'iter_{last_saved + 10}.pth').is_file()
