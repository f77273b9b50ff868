"""configs/mavil/stage2_iter*.py: differ from their base only in the teacher, default paths
follow the previous stage's work dir, and a missing teacher gives the expected path."""
import subprocess
import sys

import pytest
from mmengine.config import Config

from mavil.apis.stages import final_checkpoint_name
from tests.conftest import REPO

CONFIGS = REPO / 'configs' / 'mavil'


def flat(cfg: Config) -> dict:
    out = {}

    def walk(node, prefix):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f'{prefix}{k}.')
        else:
            out[prefix[:-1]] = node
    walk(cfg.to_dict(), '')
    return out


def cfg(name: str) -> Config:
    return Config.fromfile(str(CONFIGS / f'{name}.py'))


def test_iter1_is_stage1_with_teacher_targets():
    s1, s2 = flat(cfg('stage1')), flat(cfg('stage2_iter1'))
    differ = {k for k in s1.keys() | s2.keys() if s1.get(k) != s2.get(k)}
    # teacher_targets: the shared TeacherTargets settings (configs/_base_/models/teacher_targets.py)
    assert differ and all(k.startswith(('model.target.', 'teacher_targets.')) for k in differ), differ
    target = cfg('stage2_iter1').model.target
    assert target.type == 'TeacherTargets' and target.target_type == 'M-Fusion'
    assert target.normalize is False


@pytest.mark.parametrize('k', [2, 3])
def test_later_iterations_differ_only_in_the_teacher(k):
    prev, this = flat(cfg(f'stage2_iter{k - 1}')), flat(cfg(f'stage2_iter{k}'))
    differ = {key for key in prev.keys() | this.keys() if prev.get(key) != this.get(key)}
    assert differ == {'model.target.teacher_config', 'model.target.teacher_ckpt'}


@pytest.mark.parametrize('k,prev', [(1, 'stage1'), (2, 'stage2_iter1'), (3, 'stage2_iter2')])
def test_default_teacher_is_previous_stages_final_checkpoint(k, prev):
    target = cfg(f'stage2_iter{k}').model.target
    final = final_checkpoint_name(cfg(prev), prev)
    assert target.teacher_config == f'configs/mavil/{prev}.py'
    # tools/train.py's default work dir is work_dirs/<config name>
    assert target.teacher_ckpt == f'work_dirs/{prev}/{final}' == f'work_dirs/{prev}/epoch_20.pth'


def test_train_tool_reports_missing_teacher_with_expected_path(tmp_path):
    missing = tmp_path / 'stage1' / 'epoch_20.pth'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(CONFIGS / 'stage2_iter1.py'),
         '--work-dir', str(tmp_path / 'run'), '--cfg-options',
         f'model.target.teacher_ckpt={missing}',
         'model.audio_encoder.arch=tiny', 'model.video_encoder.arch=tiny'],  # fails before fusion
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    err = proc.stderr
    assert 'FileNotFoundError: teacher checkpoint not found' in err
    assert str(missing) in err and 'work_dirs/stage1/' in err
