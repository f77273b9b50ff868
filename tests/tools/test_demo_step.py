"""benchmarks/demo_step.py: the process-tree CPU clock and a tiny end-to-end run."""
import subprocess
import sys
import time

import pytest

from .conftest import REPO, load_script


@pytest.fixture(scope='module')
def demo_step():
    return load_script('benchmarks/demo_step.py')


def test_tree_cpu_counts_live_and_finished_children(demo_step):
    """A child's CPU counts while it runs (a data-loader worker) and after it is waited for."""
    busy = 'import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n' \
           'print(flush=True)\ntime.sleep(30)'
    before = demo_step.tree_cpu_seconds()
    child = subprocess.Popen([sys.executable, '-c', busy], stdout=subprocess.PIPE)
    try:
        child.stdout.readline()  # the child has burnt its 0.4 s and sleeps
        alive = demo_step.tree_cpu_seconds()
        assert alive - before >= 0.35
    finally:
        child.kill()
        child.wait()
    assert demo_step.tree_cpu_seconds() - before >= 0.35  # RUSAGE_CHILDREN now holds it


def test_set_data_points_datasets_and_cache_steps(demo_step):
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / demo_step.CONFIG))
    assert demo_step.set_data(cfg, '/data/x', '/caches/y')
    dataset = cfg.train_dataloader.dataset
    assert dataset.ann_file == '/data/x/annotations.csv' and dataset.data_prefix == '/data/x'
    assert dataset.pipeline[0].cache == '/caches/y'
    assert cfg.test_dataset.pipeline[0].cache == '/caches/y'


def test_demo_step_runs_end_to_end(demo_step, tmp_path, capsys):
    """This checkout against itself on 16 generated clips, 1 timed iteration of batch 4."""
    data = tmp_path / 'data'
    subprocess.run([sys.executable, '-m', 'mavil.demo.generator', str(data), '--num-clips',
                    '16'], check=True, cwd=REPO, capture_output=True)
    start = time.perf_counter()
    out = demo_step.main(['--before', str(REPO), '--data-root', str(data), '--cache',
                          str(tmp_path / 'cache'), '--iters', '1', '--warmup', '1',
                          '--repeats', '1', '--batch-size', '4'])
    assert time.perf_counter() - start < 300
    for name in ('before', 'this'):
        row = out['rows'][name]
        assert 0 < row['step'] <= row['cpu'] and row['runs'][0]['reads_cache']
    assert out['ratio'] == pytest.approx(out['rows']['before']['cpu'] / out['rows']['this']['cpu'])
    assert 'training work per CPU-second, this / before' in capsys.readouterr().out
