"""The whole demo (data -> 2 seeds in parallel processes: random init, stage 1, stage 2,
MAE-only -> report and figures) at a tiny size."""
import json

from mavil.demo.report import METRICS
from mavil.demo.run import STAGES, DemoSettings, run_demo


def test_demo_end_to_end_small(tmp_path, capsys):
    settings = DemoSettings(
        data_root=str(tmp_path / 'data'), work_dir=str(tmp_path / 'work'), num_clips=16,
        seeds=(0, 1), stage1_iters=2, stage2_iters=2, batch_size=4, num_workers=0,
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
    assert {'data', 'decode_eval', 'seeds', 'total'} <= set(timings)
    assert {'train_stage1', 'train_stage2_iter1', 'train_mae_only'} <= set(
        timings['per_seed']['1'])
    for seed in (0, 1):  # stage 1 checkpoint -> teacher of stage 2 (with its exact config)
        seed_dir = work / f'seed_{seed}'
        assert (seed_dir / 'stage1' / 'iter_2.pth').is_file()
        assert (seed_dir / 'stage1' / 'teacher_config.py').is_file()
        assert (seed_dir / 'stage2_iter1' / 'iter_2.pth').is_file()
        assert (seed_dir / 'mae_only' / 'iter_2.pth').is_file()
        assert 'stage2_iter1' in (seed_dir / 'mavil.log').read_text()
        assert 'mae_only' in (seed_dir / 'mae_only.log').read_text()
    out = capsys.readouterr().out
    assert 'phase times:' in out and 'stage2_iter1' in out and 'mae_only' in out
