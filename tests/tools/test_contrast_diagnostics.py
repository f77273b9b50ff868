"""tools/contrast_diagnostics.py reads each ``--setting NAME [KEY=VALUE ...]`` with the tools'
one ``--cfg-options`` parser: list values stay whole, whitespace and bare keys are refused."""
import pytest
import torch

from tests.helpers import load_script


@pytest.fixture
def diagnostics(monkeypatch, tmp_path):
    """The tool with its training replaced by a record of the options each setting gets."""
    tool = load_script('tools/contrast_diagnostics.py')
    runs = []
    monkeypatch.setattr(tool, 'decoded_splits', lambda *args: 'splits.pt')
    monkeypatch.setattr(tool, 'run_setting',
                        lambda name, options, args, splits: runs.append((name, options)))
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
