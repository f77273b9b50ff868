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
        probe_steps=20, progress=False, finetune_modalities=('av', ), finetune_epochs=2)
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
    # fine-tuning: every stage of every seed, paired differences of each step of the order
    ft = saved['finetune']
    assert ft['seeds'] == [0, 1] and list(ft['accuracy']) == ['av']
    assert list(ft['accuracy']['av']) == list(STAGES)
    assert list(ft['paired']['av']) == ['mae_only - random_init', 'stage1 - mae_only',
                                        'stage2_iter1 - stage1']
    runs = ft['runs']
    for stage, cell in ft['accuracy']['av'].items():
        assert cell['per_seed'] == [runs[str(s)]['av'][stage]['accuracy'] for s in (0, 1)]
    d = ft['paired']['av']['stage1 - mae_only']
    assert d['per_seed'] == [runs[str(s)]['av']['stage1']['accuracy']
                             - runs[str(s)]['av']['mae_only']['accuracy'] for s in (0, 1)]
    assert (work / 'seed_1' / 'finetune' / 'stage2_iter1_av' / 'epoch_2.pth').is_file()
    assert set(saved['probe_paired']) == {'audio_probe_acc', 'video_probe_acc'}
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
    assert 'Paired differences (same seed)' in out and 'finetune' in timings


def test_demo_parts_run_in_their_own_processes(tmp_path):
    settings = DemoSettings(
        data_root=str(tmp_path / 'data'), work_dir=str(tmp_path / 'work'), num_clips=16,
        seeds=(3,), stage1_iters=2, batch_size=4, mae_only=False, stage2=False,
        reconstruction=False, probe_steps=5, progress=False, finetune_modalities=('audio', ),
        finetune_epochs=2)
    report = run_demo(settings)
    assert list(report['stages']) == ['random_init', 'stage1'] and report['seeds'] == [3]
    # fine-tuning ran in worker processes, each with its log
    assert list(report['finetune']['accuracy']['audio']) == ['random_init', 'stage1']
    ft_log = (tmp_path / 'work' / 'seed_3' / 'finetune' / 'stage1_audio.log').read_text()
    assert 'Epoch(train)' in ft_log and 'matched' in ft_log  # the stage-1 encoder was loaded
    log = (tmp_path / 'work' / 'seed_3' / 'mavil.log').read_text()
    assert '[seed 3] stage1:' in log  # the child's output went to its log
    result = json.loads((tmp_path / 'work' / 'seed_3' / 'mavil.json').read_text())
    for k in METRICS:
        assert result['rows']['stage1'][k] == report['stages']['stage1'][k]['per_seed'][0]
