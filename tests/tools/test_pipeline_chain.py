"""tools/pretrain_pipeline.py on the pre-training ablation cells (Tables 5 and 13): a cell's
settings reach every stage, or the pipeline refuses before anything runs."""
import pytest

from tests.conftest import REPO
from .conftest import load_script

ABLATIONS = REPO / 'configs' / 'mavil' / 'ablations'
STAGE2 = [str(REPO / 'configs' / 'mavil' / f'stage2_iter{k}.py') for k in (1, 2, 3)]

# cell -> (a setting its students would inherit wrongly, the --stage2-cfg-options that align)
CELLS = {
    'alpha_0p3': ('model.inter_loss.loss_weight = 0.1 (stage 1: 0.3)',
                  ['model.inter_loss.loss_weight=0.3']),
    'beta_0p05': ('model.intra_loss.loss_weight = 0.01 (stage 1: 0.05)',
                  ['model.intra_loss.loss_weight=0.05']),
    'epochs_15': ('train_cfg.max_epochs = 20 (stage 1: 15)', ['train_cfg.max_epochs=15']),
    'vit_large': ("model.audio_encoder.arch = 'base' (stage 1: 'large')",
                  ['model.audio_encoder.arch=large', 'model.video_encoder.arch=large',
                   'model.fusion.num_heads=16', 'model.video_encoder.init_cfg.checkpoint='
                   'checkpoints/mae_pretrain_vit_large.pth']),
    'init_scratch': ('model.video_encoder.init_cfg = ', ['model.video_encoder.init_cfg=None']),
    'data_200k': ("train_dataloader.dataset = {'type': 'ConcatDataset'", None),
}


def run(cell: str, tmp_path, *extra: str):
    pipeline = load_script('tools/pretrain_pipeline.py')
    return pipeline.main([str(ABLATIONS / f'{cell}.py'), '--iters', '3', '--stage2-configs',
                          *STAGE2, '--work-root', str(tmp_path / 'wd'), '--dry-run', *extra])


@pytest.mark.parametrize('cell', sorted(CELLS))
def test_a_cell_that_configures_stage_1_only_is_refused(cell, tmp_path, capsys):
    difference, options = CELLS[cell]
    with pytest.raises(SystemExit) as refused:
        run(cell, tmp_path)
    message = str(refused.value)
    assert f'stage2_iter1, stage2_iter2, stage2_iter3: {difference}' in message
    assert '--allow-stage-differences' in message
    assert 'training in' not in capsys.readouterr().out  # nothing planned or run
    if options is None:  # a dataset of another kind: stage-2 configs must carry it
        assert 'give stage-2 configs with these settings' in message
        return
    assert f'--stage2-cfg-options {" ".join(sorted(options))}' in message
    run(cell, tmp_path, '--stage2-cfg-options', *options)  # the suggested options: accepted
    out = capsys.readouterr().out
    joined = ' '.join(options)
    assert out.count(f'--cfg-options {joined}') == 3  # every student trains the cell
    # the teachers of iterations 2 and 3 are rebuilt as they were trained
    for option in options:
        assert out.count(f'teacher_cfg_options.{option}') == 2


def test_an_intended_difference_is_allowed_by_name(tmp_path, capsys):
    with pytest.raises(SystemExit, match='max_epochs'):
        run('epochs_15', tmp_path, '--allow-stage-differences', 'model.inter_loss')
    run('epochs_15', tmp_path, '--allow-stage-differences', 'train_cfg')
    assert 'stage2_iter3: training in' in capsys.readouterr().out


def test_the_default_chain_is_consistent(tmp_path, capsys):
    pipeline = load_script('tools/pretrain_pipeline.py')
    pipeline.main([str(REPO / 'configs/mavil/stage1.py'), '--iters', '3', '--work-root',
                   str(tmp_path / 'wd'), '--dry-run'])
    assert 'stage2_iter3: training in' in capsys.readouterr().out
