"""tools/reproduce.py: the tables' arithmetic against hand computations, every column's config,
and a reproduction of Table 4a (its stage-1 teacher -> two stage-2 students) at a tiny size
(2 iterations per pre-training, one seed), with both evaluations."""
import importlib.util
import json
import math
from pathlib import Path

import pytest

from mavil.demo.ablations import (EVALUATORS, RUNS, TABLES, EvalRequest, format_tables,
                                  mean_sd, order_agreement, runs_for)

REPO = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location('reproduce_tool', REPO / 'tools/reproduce.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_run_has_a_config_and_teachers_come_first():
    for run in RUNS:
        assert (REPO / run.config).is_file(), run.config
    order = [r.name for r in runs_for(['table4a'])]
    assert order == ['stage1', 'm_uni', 'm_fusion']
    assert [r.name for r in runs_for(['table1'])] == ['mae_only', 'joint_av_mae', 'mbt']
    with pytest.raises(ValueError, match='unknown table'):
        runs_for(['table9'])


def test_every_run_config_builds_its_model(tmp_path):
    """Each column's config merges with the demo's settings and builds (no training)."""
    import mavil.models  # noqa: F401  (registers the components)
    from mavil.demo.run import DemoSettings
    from mavil.demo.stages import load_stage_config
    from mavil.registry import MODELS

    settings = DemoSettings(data_root=str(tmp_path))
    for run in RUNS:
        cfg = load_stage_config(str(REPO / run.config), settings, 0, str(tmp_path / run.name),
                                2)
        if run.teacher:  # stage-2 students build their teacher lazily from a checkpoint
            assert cfg.model.target.type == 'TeacherTargets'
            continue
        model = MODELS.build(cfg.model)
        assert (model.inter_loss is None) == (run.name in ('mae_only', 'joint_av_mae', 'mbt',
                                                           'intra')), run.name
        assert (model.intra_loss is None) == (run.name in ('mae_only', 'joint_av_mae', 'mbt',
                                                           'inter')), run.name
        assert (model.fusion is None) == (run.name == 'mae_only'), run.name
        if run.name == 'mbt':
            assert type(model.fusion).__name__ == 'MBTFusion'
        if model.inter_loss is not None:  # the demo's small-scale setting, not the paper's
            assert model.inter_loss.batch_standardize


def test_paper_numbers_are_the_papers_tables():
    paper = {t.key: t.paper for t in TABLES}
    assert paper['table3']['Inter+intra'] == (39.0, 22.2) == paper['table4a']['Raw']
    assert paper['table3']['None'] == paper['table1']['Vanilla'] == (36.8, 17.7)
    assert paper['table4a']['M-Fusion'] == (40.7, 24.1)


def test_mean_sd_and_order_agreement_by_hand():
    mean, sd = mean_sd([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3)
    assert sd == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2
                                          + (4 - 7 / 3) ** 2) / 2))
    assert mean_sd([0.5]) == (0.5, 0.0)
    # paper 1 < 3 < 2 (pairs: (0,1) up, (0,2) up, (1,2) down); ours 1 < 2 < 3
    assert order_agreement([1, 2, 3], [1, 3, 2]) == (2, 3)
    # a tie in the paper orders nothing
    assert order_agreement([5, 1, 2], [36.8, 36.8, 37.0]) == (1, 2)


def test_format_tables_shows_paired_differences():
    results = {'mae_only': {0: dict(audio=0.2, video=0.3), 1: dict(audio=0.4, video=0.3)},
               'joint_av_mae': {0: dict(audio=0.3, video=0.2), 1: dict(audio=0.45, video=0.2)},
               'mbt': {0: dict(audio=0.1, video=0.5), 1: dict(audio=0.5, video=0.5)}}
    text = format_tables(results, [0, 1], ['table1'], metric='probe accuracy')
    audio_row = next(line for line in text.splitlines() if line.startswith('| audio, ours'))
    # joint_av_mae - mae_only per seed: +0.1, +0.05 -> mean 0.075, both > 0
    assert '0.375 +- 0.106 (diff +0.075 +- 0.035, > 0 on 2/2)' in audio_row
    # paper: 36.4 < 36.8 = 36.8 -> 2 ordered pairs; ours 0.3 < 0.375, 0.3 = 0.3 (mbt)
    assert audio_row.endswith('| no (1/2 pairs) |')
    video_row = next(line for line in text.splitlines() if line.startswith('| video, ours'))
    assert video_row.endswith('| no (1/2 pairs) |')  # 0.3 > 0.2 disagrees; 0.3 < 0.5 agrees
    assert '| audio, paper | 36.4 | 36.8 (+0.4) | 36.8 (+0.4) | |' in text


def test_reproduce_table4a_end_to_end_tiny(tmp_path):
    tool = load_tool()
    settings = tool.parse_args([
        '--data-root', str(tmp_path / 'data'), '--work-dir', str(tmp_path / 'work'),
        '--num-clips', '16', '--seeds', '0', '--iters', '2', '--batch-size', '4',
        '--probe-steps', '5', '--evaluation', 'probe', '--tables', 'table4a', '--jobs', '0',
        '--no-progress'])
    text = tool.reproduce(settings)
    work = tmp_path / 'work'
    assert (work / 'tables.md').read_text().strip() == text.strip()
    assert TABLES[2].title in text and TABLES[0].title not in text
    saved = json.loads((work / 'results.json').read_text())
    assert set(saved['results']) == {'stage1', 'm_uni', 'm_fusion'}
    for run, per_seed in saved['results'].items():
        row = per_seed['0']
        assert 0 <= row['audio'] <= 1 and 0 <= row['video'] <= 1, run
        assert (work / 'seed_0' / run / 'iter_2.pth').is_file()
    # the stage-2 students were taught by this seed's stage-1 model
    for student in ('m_uni', 'm_fusion'):
        cfg_text = (work / 'seed_0' / student / 'teacher_config.py').read_text()
        assert str(work / 'seed_0' / 'stage1' / 'iter_2.pth') in cfg_text
    # a second call reuses every finished run
    stamp = (work / 'seed_0' / 'stage1' / 'iter_2.pth').stat().st_mtime_ns
    tool.reproduce(settings)
    assert (work / 'seed_0' / 'stage1' / 'iter_2.pth').stat().st_mtime_ns == stamp
    # the fine-tuning evaluation of one pre-trained model (2 epochs), from the decoded clips
    request = EvalRequest(model=None, config=None, seed=0, train=None, test=None,
                          num_classes=8, checkpoint=str(work / 'seed_0' / 'stage1' / 'iter_2.pth'),
                          data_root=str(tmp_path / 'data'),
                          splits_file=str(work / 'eval_splits.pt'), finetune_epochs=2)
    accuracy = EVALUATORS['finetune'](request)
    assert set(accuracy) == {'audio', 'video'} and all(0 <= a <= 1 for a in accuracy.values())
    assert (work / 'seed_0' / 'stage1' / 'finetune_audio').is_dir()
