"""The whole demo (data -> per seed: random init, stage 1, stage 2, MAE-only -> report and
figures) at a tiny size; and the default path that runs each (seed, part) in its own process."""
import json

from mmengine.config import Config

from mavil.demo.report import METRICS
from mavil.demo.run import STAGES, DemoSettings, run_demo


def test_demo_end_to_end_small(tmp_path, capsys):
    settings = DemoSettings(
        data_root=str(tmp_path / 'data'), work_dir=str(tmp_path / 'work'), num_clips=16,
        seeds=(0, 1), parallel=False, stage1_iters=2, stage2_iters=2, batch_size=4,
        probe_steps=20, progress=False)
    report = run_demo(settings)

    work = tmp_path / 'work'
    saved = json.loads((work / 'report.json').read_text())
    assert saved['stages'] == report['stages'] and list(saved['stages']) == list(STAGES)
    assert saved['seeds'] == [0, 1] and saved['n_test'] == 8
    for stage, row in saved['stages'].items():
        assert set(row) == set(METRICS), stage
        for cell in row.values():
            assert len(cell['per_seed']) == 2 and all(0 <= v <= 1 for v in cell['per_seed'])
            assert abs(cell['mean'] - sum(cell['per_seed']) / 2) < 1e-9
    assert saved['chance']['a2v_r1'] == 1 / 8 and saved['chance']['audio_probe_acc'] == 1 / 8
    for picture in ('loss_curve.png', 'report.png'):
        assert (work / picture).stat().st_size > 10_000, picture
    timings = json.loads((work / 'timings.json').read_text())
    assert {'data', 'cache', 'eval_splits', 'seeds', 'total', 'cpu_seconds'} <= set(timings)
    assert {'train_stage1', 'train_stage2_iter1', 'train_mae_only'} <= set(
        timings['per_seed']['1'])
    for seed in (0, 1):  # stage 1 checkpoint -> teacher of stage 2 (with its exact config)
        seed_dir = work / f'seed_{seed}'
        for stage in ('stage1', 'stage2_iter1', 'mae_only'):
            assert (seed_dir / stage / 'iter_2.pth').is_file(), stage
        assert (seed_dir / 'stage1' / 'teacher_config.py').is_file()
        # trained from the clip cache, not from the files
        cfg = Config.fromfile(str(seed_dir / 'stage1' / 'teacher_config.py'))
        load = cfg.train_dataloader.dataset.pipeline[0]
        assert load.type == 'LoadCachedClip' and load.cache == str(work / 'cache')
    out = capsys.readouterr().out
    assert 'phase times:' in out and 'stage2_iter1' in out and 'mae_only' in out


def test_demo_parts_run_in_their_own_processes(tmp_path):
    settings = DemoSettings(
        data_root=str(tmp_path / 'data'), work_dir=str(tmp_path / 'work'), num_clips=16,
        seeds=(3,), stage1_iters=2, batch_size=4, mae_only=False, stage2=False,
        reconstruction=False, probe_steps=5, progress=False)
    report = run_demo(settings)
    assert list(report['stages']) == ['random_init', 'stage1'] and report['seeds'] == [3]
    log = (tmp_path / 'work' / 'seed_3' / 'mavil.log').read_text()
    assert '[seed 3] stage1:' in log  # the child's output went to its log
    result = json.loads((tmp_path / 'work' / 'seed_3' / 'mavil.json').read_text())
    for k in METRICS:
        assert result['rows']['stage1'][k] == report['stages']['stage1'][k]['per_seed'][0]
