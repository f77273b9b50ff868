"""Loud failures instead of silently wrong runs: a checkpoint that does not fit the model is
an error, and a non-finite loss stops every model before the update."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper

import mavil.models  # noqa: F401  (registers the models)
from mavil.engine import MAViLRunner
from mavil.registry import MODELS
from mavil.structures import AVDataSample

FIXTURES = Path(__file__).resolve().parents[1] / 'fixtures' / 'configs'


def build_model(name: str):
    cfg = Config.fromfile(str(FIXTURES / name))
    return MODELS.build(cfg.model), cfg


def test_every_training_model_has_the_non_finite_guard():
    from mavil.models.algorithms.base import FiniteLossModel
    models = {k: v for k, v in MODELS.module_dict.items()
              if isinstance(v, type) and issubclass(v, BaseModel)}
    assert {'MAViL', 'AVClassifier', 'AVRetriever'} <= set(models)
    unguarded = [k for k, v in models.items() if not issubclass(v, FiniteLossModel)]
    assert not unguarded, f'models without the non-finite loss guard: {unguarded}'


def test_classifier_nan_stops_before_the_update_naming_step_and_terms():
    model, cfg = build_model('tiny_ft_audio.py')
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    audio = torch.full((2, 1, *cfg.model.audio_encoder.input_size), math.nan)
    samples = [AVDataSample(labels=torch.tensor([0])), AVDataSample(labels=torch.tensor([1]))]
    data = dict(inputs=dict(audio=list(audio)), data_samples=samples)
    MessageHub.get_current_instance().update_info('iter', 4)  # as the train loop sets it
    with pytest.raises(FloatingPointError, match=r'non-finite loss at training step 5: '
                                                 r'.*loss_cls.*stopped before the update'):
        model.train_step(data, optim)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) or before[k].isnan().all()
               for k in before), 'weights changed'


def test_checkpoint_of_another_architecture_is_an_error():
    from mavil.engine.resume import check_checkpoint_fits
    model, _ = build_model('tiny_stage1.py')
    state = {k: v.clone() for k, v in model.state_dict().items()}
    wrong = dict(state)
    key = next(k for k in wrong if k.endswith('attn.qkv.weight'))
    wrong[key] = torch.zeros(wrong[key].shape[0] * 2, wrong[key].shape[1])
    with pytest.raises(RuntimeError, match=rf'(?s)1 tensor shapes differ.*{key}'):
        check_checkpoint_fits(model, {'state_dict': wrong}, 'other.pth')
    few = {k: v for k, v in state.items() if k.startswith('audio_encoder.')}
    with pytest.raises(RuntimeError, match=r'other\.pth does not fit MAViL: \d+ of its \d+ '
                                           r'trainable parameters are not in the file.*'
                                           r'video_encoder\.'):
        check_checkpoint_fits(model, {'state_dict': few}, 'other.pth')
    check_checkpoint_fits(model, {'state_dict': state}, 'same.pth')  # fits


def test_decoder_heads_of_other_targets_are_reinitialised_only_outside_resume():
    """A raw-target checkpoint into a teacher-target model (retrieval fine-tuning, Eq. 6): the
    decoder heads, whose width follows the targets, keep their initialisation; nothing else may
    differ, and resuming accepts no difference at all."""
    from mavil.engine.resume import check_checkpoint_fits
    model, _ = build_model('tiny_stage1.py')
    state = {k: v.clone() for k, v in model.state_dict().items()}
    other = dict(state)
    heads = [k for k in other if k.startswith(('audio_decoder.head.', 'video_decoder.head.'))]
    assert len(heads) == 4  # weight + bias per modality
    for key in heads:
        other[key] = torch.zeros(7, *other[key].shape[1:])  # another target width
    checkpoint = {'state_dict': dict(other)}
    check_checkpoint_fits(model, checkpoint, 'raw_targets.pth')
    assert not set(heads) & set(checkpoint['state_dict'])  # dropped: the heads keep their init
    assert len(checkpoint['state_dict']) == len(state) - len(heads)
    with pytest.raises(RuntimeError, match='tensor shapes differ'):
        check_checkpoint_fits(model, {'state_dict': dict(other)}, 'raw_targets.pth',
                              resuming=True)
    key = next(k for k in other if k.endswith('attn.qkv.weight'))
    other[key] = torch.zeros(other[key].shape[0] * 2, other[key].shape[1])
    with pytest.raises(RuntimeError, match=rf'(?s)1 tensor shapes differ.*{key}'):
        check_checkpoint_fits(model, {'state_dict': other}, 'raw_targets.pth')


def test_load_from_a_partial_checkpoint_fails(tiny_config, tmp_path):
    """Through the runner's ``load_from``, as tools/test.py and tools/train.py use it."""
    model, _ = build_model('tiny_stage1.py')
    few = {k: v for k, v in model.state_dict().items() if k.startswith('audio_encoder.')}
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': few, 'meta': {}}, path)
    cfg = Config.fromfile(str(tiny_config))
    cfg.work_dir, cfg.load_from = str(tmp_path), str(path)
    runner = MAViLRunner.from_cfg(cfg)
    with pytest.raises(RuntimeError, match='trainable parameters are not in the file'):
        runner.load_or_resume()
