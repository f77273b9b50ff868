"""The whole demo (data -> random-init eval -> stage 1 -> stage 2 -> report) at a tiny size."""
import json
import time

from mavil.demo.run import STAGES, DemoSettings, run_demo

ROW_KEYS = {'a2v_r1', 'a2v_r5', 'chance_r1', 'chance_r5', 'audio_probe_acc', 'video_probe_acc',
            'chance_acc'}


def test_demo_end_to_end_small(tmp_path, capsys):
    start = time.perf_counter()
    settings = DemoSettings(
        data_root=str(tmp_path / 'data'), work_dir=str(tmp_path / 'work'), num_clips=16,
        stage1_iters=3, stage2_iters=2, batch_size=4, num_workers=0, probe_steps=20,
        progress=False)
    report = run_demo(settings)
    elapsed = time.perf_counter() - start

    work = tmp_path / 'work'
    saved = json.loads((work / 'report.json').read_text())
    assert saved == report and list(saved) == list(STAGES)
    for stage, row in saved.items():
        assert set(row) == ROW_KEYS, stage
        assert row['chance_r1'] == 1 / 8 and row['chance_acc'] == 1 / 8  # 8 test clips
        assert all(0.0 <= v <= 1.0 for v in row.values())
    assert (work / 'loss_curve.png').stat().st_size > 10_000
    timings = json.loads((work / 'timings.json').read_text())
    assert {'data', 'train_stage1', 'train_stage2_iter1', 'total'} <= set(timings)
    # stage 1 checkpoint -> teacher of stage 2 (with the config stage 1 really ran)
    assert (work / 'stage1' / 'iter_3.pth').is_file()
    assert (work / 'stage1' / 'teacher_config.py').is_file()
    assert (work / 'stage2_iter1' / 'iter_2.pth').is_file()
    out = capsys.readouterr().out
    assert 'phase times:' in out and 'stage2_iter1' in out
    assert elapsed < 60, f'the smoke demo took {elapsed:.0f} s'
