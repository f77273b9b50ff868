"""mavil.apis.stages: the plan of stage 1 -> stage-2 iterations that the pipeline tool and the
demo both follow (no training here; tools/pretrain_pipeline.py's run is tested in
tests/tools/test_pretrain_pipeline.py)."""
import os
from pathlib import Path

import pytest

from mavil.apis.stages import parse_cfg_options, plan_stages, teacher_options

REPO = Path(__file__).resolve().parents[2]
TINY1 = REPO / 'tests/fixtures/configs/tiny_stage1.py'
TINY2 = REPO / 'tests/fixtures/configs/tiny_stage2.py'


def test_parse_cfg_options_as_the_command_line_does():
    assert parse_cfg_options(['a.b=1', 'c=[1,2]', 'd=x']) == {'a.b': 1, 'c': [1, 2], 'd': 'x'}
    assert parse_cfg_options([]) == {}


def test_plan_chains_each_stage_to_the_previous_final_checkpoint(tmp_path):
    stages = plan_stages(str(TINY1), 2, str(tmp_path), stage2_configs=[str(TINY2)],
                         cfg_options=['train_cfg.max_iters=12'],
                         stage2_cfg_options=['model.target.target_type=M-Uni'])
    assert [s.name for s in stages] == ['stage1', 'stage2_iter1', 'stage2_iter2']
    assert [s.final_ckpt for s in stages] == [
        str(tmp_path / name / 'iter_12.pth') for name in ('stage1', 'stage2_iter1',
                                                          'stage2_iter2')]
    assert stages[0].teacher is None and stages[0].teacher_options() == []
    assert stages[2].teacher is stages[1] and stages[1].teacher is stages[0]
    assert stages[0].cfg_options == ['train_cfg.max_iters=12']
    assert stages[1].cfg_options[-1] == 'model.target.target_type=M-Uni'

    # the teacher config: the source file with its stage's options (never a work-dir copy)
    assert stages[1].teacher_options() == [
        f'{k}={v}' for k, v in teacher_options(str(TINY1), stages[0].final_ckpt,
                                               ['train_cfg.max_iters=12']).items()]

    cfg = stages[2].load_config(extra={'train_dataloader.batch_size': 2})
    assert cfg.work_dir == str(tmp_path / 'stage2_iter2')
    assert cfg.train_cfg.max_iters == 12 and cfg.train_dataloader.batch_size == 2
    target = cfg.model.target
    assert target.target_type == 'M-Uni'
    assert target.teacher_ckpt == str(tmp_path / 'stage2_iter1' / 'iter_12.pth')
    assert target.teacher_config == str(TINY2.resolve())
    assert target.teacher_cfg_options == {'train_cfg': {'max_iters': 12},
                                          'model': {'target': {'target_type': 'M-Uni'}}}


def test_latest_checkpoint_is_the_newest_file(tmp_path):
    stage = plan_stages(str(TINY1), 0, str(tmp_path))[0]
    assert stage.latest_checkpoint() is None
    Path(stage.work_dir).mkdir()
    older, newer = Path(stage.work_dir) / 'iter_20.pth', Path(stage.work_dir) / 'iter_10.pth'
    older.write_bytes(b'')
    newer.write_bytes(b'')
    os.utime(older, (1, 1))
    assert stage.latest_checkpoint() == str(newer)


def test_plan_errors_name_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='no stage-2 config'):
        plan_stages(str(TINY1), 1, str(tmp_path))  # no stage2_iter*.py next to the fixture
    with pytest.raises(FileNotFoundError, match='stage2_iter1: config not found'):
        plan_stages(str(TINY1), 1, str(tmp_path), stage2_configs=[str(tmp_path / 'x.py')])


def test_teacher_config_never_comes_from_the_work_dir(tmp_path):
    """A config copy in the teacher stage's work dir (MMEngine's dump, editable) is never
    loaded: the stage-2 student builds its teacher from the config file and options of the
    command line, so code added to the copy does not run."""
    import torch
    from mmengine.config import Config

    from mavil.registry import MODELS
    mark = tmp_path / 'MARK'
    stages = plan_stages(str(TINY1), 1, str(tmp_path / 'runs'), stage2_configs=[str(TINY2)],
                         cfg_options=['model.audio_encoder.mask_ratio=0.5'])
    stage1_dir = tmp_path / 'runs' / 'stage1'
    stage1_dir.mkdir(parents=True)
    teacher = MODELS.build(Config.fromfile(str(TINY1)).model)
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, stages[0].final_ckpt)
    dumped = Config.fromfile(str(TINY1)).pretty_text  # as MMEngine dumps it, then edited
    (stage1_dir / TINY1.name).write_text(
        f"_x = __import__('pathlib').Path({str(mark)!r}).touch()\n" + dumped)
    cfg = stages[1].load_config()
    student = MODELS.build(cfg.model)
    assert not mark.exists(), 'the work-dir copy of the teacher config was executed'
    assert cfg.model.target.teacher_config == str(TINY1)
    assert student.target.teacher.audio_encoder.mask_ratio == 0.5  # the stage's option
    torch.testing.assert_close(student.target.teacher.audio_encoder.blocks[0].attn.qkv.weight,
                               teacher.audio_encoder.blocks[0].attn.qkv.weight)
