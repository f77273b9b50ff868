"""Paths with spaces cannot pass through --cfg-options (MMEngine strips whitespace from the
values): refused up front instead of failing after stage 1."""
import pytest

from tools.train import parse_args as train_args
from tests.conftest import REPO, TINY_STAGE1, TINY_STAGE2
from tests.helpers import load_script


def test_pipeline_refuses_a_work_root_with_spaces_before_running(tmp_path):
    pipeline = load_script('tools/pretrain_pipeline.py')
    root = tmp_path / 'dir with space'
    with pytest.raises(SystemExit, match=r'teacher_ckpt=.*dir with space.*contains whitespace'):
        pipeline.main([str(TINY_STAGE1), '--iters', '1', '--stage2-configs', str(TINY_STAGE2),
                       '--work-root', str(root), '--dry-run'])
    assert not root.exists()


def test_cfg_options_value_with_spaces_is_refused(capsys):
    with pytest.raises(SystemExit):
        train_args([str(REPO / 'configs/mavil/stage1.py'), '--cfg-options',
                    'work_dir=/my runs/a'])
    assert "would silently become work_dir='/myruns/a'" in capsys.readouterr().err
    assert train_args(['c.py', '--cfg-options', 'a=1'], ).cfg_options == {'a': 1}


@pytest.mark.parametrize('tool', ['convert_weights', 'flops', 'data/compute_audio_stats'])
def test_other_tools_refuse_cfg_options_with_spaces_too(tool, capsys):
    """The same parser as tools/train.py: a value with spaces is refused, not squeezed."""
    parse = load_script(f'tools/{tool}.py').parse_args
    head = {'convert_weights': ['export', 'c.py', 'x.pth', '--out', 'o.safetensors'],
            'flops': ['c.py'], 'data/compute_audio_stats': ['c.py']}[tool]
    with pytest.raises(SystemExit):
        parse(head + ['--cfg-options', 'work_dir=/my runs/a'])
    assert "would silently become work_dir='/myruns/a'" in capsys.readouterr().err
    assert parse(head + ['--cfg-options', 'a=1']).cfg_options == {'a': 1}
