"""tools/contrast_diagnostics.py: each ``--setting NAME [KEY=VALUE ...]`` read with the tools'
one ``--cfg-options`` parser (list values whole, whitespace and bare keys refused), the
category-information probe against a hand-written ridge classifier, and short runs of the tool
on a few generated clips."""
import json

import numpy as np
import pytest
import torch

from tests.helpers import load_script

DIAGNOSTICS = load_script('tools/contrast_diagnostics.py')


def reference_ridge_accuracy(x: np.ndarray, labels: np.ndarray, ridge: float) -> float:
    """Each feature to zero mean / unit variance over all rows, a constant column, one-hot
    targets; fit w = (A^T A + ridge I)^-1 A^T Y on one half, classify the other, swap."""
    z = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    z = np.hstack([z, np.ones((len(z), 1))])
    y = np.eye(labels.max() + 1)[labels]
    half, correct = len(z) // 2, 0
    for fit, test in ((np.arange(half), np.arange(half, len(z))),
                      (np.arange(half, len(z)), np.arange(half))):
        a = z[fit]
        w = np.linalg.inv(a.T @ a + ridge * np.eye(a.shape[1])) @ a.T @ y[fit]
        correct += int(((z[test] @ w).argmax(1) == labels[test]).sum())
    return correct / len(z)


def test_ridge_probe_accuracy_matches_hand_written_classifier():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 40)
    means = rng.normal(size=(4, 6))
    for noise in (0.3, 1.0, 3.0):  # from separable to mostly noise
        x = means[labels] + noise * rng.normal(size=(40, 6))
        got = DIAGNOSTICS.ridge_probe_accuracy(torch.from_numpy(x).float(),
                                               torch.from_numpy(labels), ridge=2.0)
        assert got == reference_ridge_accuracy(x.astype(np.float32).astype(np.float64),
                                               labels, 2.0)
    separable = np.eye(4)[labels] * 5 + 0.01 * rng.normal(size=(40, 4))
    assert DIAGNOSTICS.ridge_probe_accuracy(torch.from_numpy(separable),
                                            torch.from_numpy(labels)) == 1.0


def test_tool_runs_one_setting_on_generated_clips(tmp_path, capsys):
    work = tmp_path / 'work'
    DIAGNOSTICS.main([
        '--data-kind', 'category', '--data-root', str(tmp_path / 'data'), '--num-clips', '16',
        '--work-dir', str(work), '--iters', '2', '--every', '1', '--probe-clips', '4',
        '--label-clips', '8', '--setting', 'b4', 'train_dataloader.batch_size=4'])
    result = json.loads((work / 'category_s0_b4.json').read_text())
    assert result['batch_size'] == 4 and len(result['per_iter']) == 2
    assert [p['iter'] for p in result['probes']] == [0, 1, 2]  # every iteration and the end
    for probe in result['probes']:
        for key in ('cat_audio_masked', 'cat_video_masked', 'cat_audio_full',
                    'cat_video_full'):
            assert 0 <= probe[key] <= 1, key
        assert probe['grad_inter_audio'] > 0 and probe['grad_rec_video'] > 0
    assert 'category s0 b4' in capsys.readouterr().out


def test_supervised_bound_trains_a_head_per_modality(tmp_path, capsys):
    work = tmp_path / 'work'
    DIAGNOSTICS.main([
        '--data-kind', 'category', '--data-root', str(tmp_path / 'data'), '--num-clips', '16',
        '--work-dir', str(work), '--iters', '3', '--supervised',
        '--setting', 'b4', 'train_dataloader.batch_size=4'])
    result = json.loads((work / 'category_s0_supervised.json').read_text())
    assert set(result['accuracy']) == {'audio', 'video'}
    for values in result['accuracy'].values():
        assert len(values) == 3 and all(v in (0, 0.25, 0.5, 0.75, 1) for v in values)
    assert 'supervised video accuracy per 20 iterations' in capsys.readouterr().out


@pytest.fixture
def diagnostics(monkeypatch, tmp_path):
    """The tool with its training replaced by a record of the options each setting gets."""
    tool = load_script('tools/contrast_diagnostics.py')
    runs = []
    monkeypatch.setattr(tool, 'prepared_cache', lambda *args: 'cache')
    monkeypatch.setattr(tool, 'run_setting',
                        lambda name, options, args, cache_dir: runs.append((name, options)))
    monkeypatch.setattr(tool, 'format_line', lambda result: '')
    tool.runs, tool.base = runs, ['--work-dir', str(tmp_path), '--data-root', str(tmp_path),
                                  '--threads', str(torch.get_num_threads())]
    return tool


def test_settings_keep_list_values_whole(diagnostics):
    diagnostics.main(diagnostics.base + [
        '--setting', 'base',
        '--setting', 'lists', 'model.a=[1,2]', 'model.b=(0.5,0.25)', 'model.c=x',
        '--setting', 'tau', 'model.inter_loss.temperature=0.5'])
    assert diagnostics.runs == [
        ('base', {}),
        ('lists', {'model.a': [1, 2], 'model.b': (0.5, 0.25), 'model.c': 'x'}),
        ('tau', {'model.inter_loss.temperature': 0.5})]


@pytest.mark.parametrize('setting, message', [
    (['s', 'work_dir=/my runs/a'], "would silently become work_dir='/myruns/a'"),
    (['s', 'model.a'], "'model.a': expected KEY=VALUE"),
    (['s=model.a=1'], "'s=model.a=1': expected a new setting name"),
    (['a/b'], "'a/b': expected a new setting name"),
])
def test_bad_settings_are_refused_before_any_run(diagnostics, capsys, setting, message):
    with pytest.raises(SystemExit):
        diagnostics.main(diagnostics.base + ['--setting', *setting])
    assert message in capsys.readouterr().err
    assert diagnostics.runs == []


def test_a_setting_name_is_used_once(diagnostics, capsys):
    with pytest.raises(SystemExit):
        diagnostics.main(diagnostics.base + ['--setting', 'a', '--setting', 'a', 'x=1'])
    assert "'a': expected a new setting name" in capsys.readouterr().err
