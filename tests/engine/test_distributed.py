"""Two-process CPU (gloo) runs: the launcher script end to end, and global-batch contrast."""
import json
import random
import re
import subprocess

import pytest
import torch

from mavil.models.losses import InfoNCELoss
from .train_utils import assert_ok, logged_scalars, run_two_processes


def _free_port() -> str:
    return str(random.randint(20000, 40000))


def test_dist_train_sh_two_cpu_processes(repo, tiny_config, subprocess_env, tmp_path):
    env = dict(subprocess_env, PORT=_free_port())
    proc = subprocess.run(
        ['bash', str(repo / 'tools' / 'dist_train.sh'), str(tiny_config), '2', '--work-dir',
         str(tmp_path), '--cfg-options', 'train_cfg.max_iters=6',
         'default_hooks.checkpoint.interval=3'],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    assert 'Iter(train) [6/6]' in log or 'Iter(train) [5/6]' in log
    assert (tmp_path / 'iter_6.pth').is_file()


@pytest.mark.parametrize('split', [4, 3])
def test_global_batch_contrast_equals_single_process(repo, subprocess_env, tmp_path, split):
    """Even split: mean of rank losses and the DDP-averaged gradient equal one process on the
    doubled batch. Uneven split (a rank skipped clips): the row-weighted mean still does."""
    out = tmp_path / 'dist.pt'
    proc = run_two_processes(repo, 'dist_contrast_worker.py', str(out), str(split),
                             env=subprocess_env)
    assert_ok(proc)
    result = torch.load(out, weights_only=True)  # tensors and plain data only

    torch.manual_seed(0)  # the same full batch, one process
    audio, video = torch.randn(8, 16), torch.randn(8, 16)
    proj = torch.nn.Linear(16, 16)
    loss = InfoNCELoss(temperature=0.1)(proj(audio), proj(video)).loss
    loss.backward()
    # each rank's loss averages its own rows against all 8 keys
    rows = torch.tensor([split, 8 - split], dtype=torch.float32)
    torch.testing.assert_close((result['losses'] * rows).sum() / 8, loss.detach(), rtol=1e-5,
                               atol=1e-6)
    assert not torch.allclose(result['losses'][0], result['losses'][1])
    if split == 4:
        torch.testing.assert_close(result['grad'], proj.weight.grad, rtol=1e-4, atol=1e-6)


def test_exact_contrast_two_processes_equal_one_big_batch(repo, subprocess_env, tmp_path):
    """2 gloo processes x 2 micro-batches of 2 (exact contrast accumulation) make the same
    optimizer step, and log the same values, as one process on the batch of 8."""
    from .exact_contrast_utils import batch, build_tiny, clips, fix_masks
    out = tmp_path / 'exact.pt'
    proc = run_two_processes(repo, 'dist_exact_contrast_worker.py', str(out),
                             env=subprocess_env, timeout=400)
    assert_ok(proc)
    result = torch.load(out, weights_only=True)  # tensors and plain data only

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = build_tiny()
        fix_masks(model)
        from mmengine.optim import OptimWrapper
        big_log = model.train_step(batch(clips(), slice(None)), OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.5)))
    finally:
        torch.set_num_threads(threads)
    for name, p in model.named_parameters():
        torch.testing.assert_close(result['params'][name], p.detach(), rtol=1e-9, atol=1e-12,
                                   msg=name)
    for key, value in big_log.items():  # mean over the two ranks' equal halves
        torch.testing.assert_close(result['logged'][key], value.double(), rtol=1e-9,
                                   atol=1e-12, msg=key)
    assert float(result['logged']['negatives_inter']) == 7  # 8 clips contrasted


def test_exact_contrast_run_on_two_processes_logs_the_global_negatives(
        repo, tiny_config, subprocess_env, tmp_path):
    """The arithmetic of configs/mavil/stage1.py on 8 GPUs (per-GPU batch 8 x 8 GPUs x
    accumulation 8 = 512 clips, 511 negatives) at CPU scale: per-process batch 2 x 2 processes
    x accumulation 4 = total_batch_size 16, 15 negatives per query."""
    env = dict(subprocess_env, PORT=_free_port())
    proc = subprocess.run(
        ['bash', str(repo / 'tools' / 'dist_train.sh'), str(tiny_config), '2', '--work-dir',
         str(tmp_path), '--cfg-options', 'total_batch_size=16', 'train_dataloader.batch_size=2',
         'train_cfg.max_iters=2', 'default_hooks.logger.interval=1',
         'default_hooks.checkpoint.interval=2'],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'contrastive losses see 16 clips per step (4 micro-batches of 2 x 2 processes' in log
    records = [r for r in logged_scalars(tmp_path) if 'negatives_inter' in r]
    assert len(records) == 2  # one optimizer step per iteration
    assert all(r['negatives_inter'] == r['negatives_intra'] == 15 for r in records)


def test_a_frozen_rank_stops_the_others_within_the_configured_timeout(repo, tiny_config,
                                                                      subprocess_env, tmp_path):
    """Rank 1 stops answering; rank 0 fails after env_cfg.dist_cfg.timeout (gloo included),
    naming itself and the collective, and torchrun ends the run."""
    out = tmp_path / 'error'
    proc = run_two_processes(repo, 'dist_timeout_worker.py', str(tiny_config),
                             str(tmp_path / 'work'), str(out), '10', env=subprocess_env,
                             timeout=300)  # torch's own gloo default: 30 min
    assert proc.returncode != 0
    result = json.loads(out.with_name('error.0').read_text())
    assert 10 <= result['waited'] < 60
    assert re.match(r"rank 0 of 2: (torch\.distributed\.\w+, called from .+:\d+ \(\w+\)|"
                    r"DistributedDataParallel's synchronisation in \w+ \(.+:\d+\)|the "
                    r"gradient all-reduce of DistributedDataParallel \(in backward\)) timed out "
                    r"after 10 s waiting for the other ranks \(env_cfg\.dist_cfg\.timeout\)",
                    result['error']), result['error']
    assert 'rank 0 of 2' in proc.stdout + proc.stderr


@pytest.mark.parametrize('value', [0, -1, '5', None])
def test_a_bad_dist_timeout_is_refused(value):
    from mavil.engine.dist_timeout import DEFAULT_TIMEOUT, resolve_timeout
    assert resolve_timeout({}) == resolve_timeout(dict(dist_cfg={})) == DEFAULT_TIMEOUT <= 600
    with pytest.raises(ValueError, match='env_cfg.dist_cfg.timeout must be a positive'):
        resolve_timeout(dict(dist_cfg=dict(timeout=value)))


def test_only_collective_timeouts_are_renamed(tmp_path):
    """A gloo timeout becomes CollectiveTimeoutError naming rank and collective; a DataLoader
    worker timeout (also a RuntimeError saying 'timed out') passes unchanged."""
    import torch.distributed as dist
    from mavil.engine.dist_timeout import CollectiveTimeoutError, naming_timeouts

    def all_reduce_stub():  # stands for the collective call site
        raise RuntimeError('[gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting '
                           '7000ms for recv operation to complete')

    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store', rank=0,
                            world_size=1)
    try:
        with pytest.raises(CollectiveTimeoutError, match=r'^rank 0 of 1: a collective \(.*'
                           r'all_reduce_stub\) timed out after 7 s .*Timed out waiting 7000ms'):
            with naming_timeouts(7):
                all_reduce_stub()
        with pytest.raises(RuntimeError, match='^DataLoader timed out after 5 seconds$'):
            with naming_timeouts(7):
                raise RuntimeError('DataLoader timed out after 5 seconds')
    finally:
        dist.destroy_process_group()
