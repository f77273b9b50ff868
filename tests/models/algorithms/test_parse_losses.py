"""A non-finite loss stops training before any update, naming the terms."""
import pytest
import torch

from mavil.registry import MODELS


@pytest.fixture
def model(tiny_model_cfg):
    return MODELS.build(tiny_model_cfg)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_loss_raises_naming_terms(model, bad):
    losses = {
        'loss_rec_audio': torch.tensor(bad),
        'loss_rec_video': torch.tensor(0.5),
        'loss_nce_inter': torch.tensor(0.1),
        'acc_inter': torch.tensor(0.25),
    }
    with pytest.raises(FloatingPointError) as err:
        model.parse_losses(losses)
    message = str(err.value)
    assert 'non-finite' in message
    for name in ('loss_rec_audio', 'loss_rec_video', 'loss_nce_inter'):
        assert name in message
    assert str(bad) in message  # the offending value is shown


def test_finite_losses_pass(model):
    losses = {'loss_rec_audio': torch.tensor(1.0), 'loss_rec_video': torch.tensor(2.0),
              'acc_inter': torch.tensor(float('nan'))}  # diagnostics are not summed
    total, log_vars = model.parse_losses(losses)
    assert float(total) == 3.0
    assert set(log_vars) == {'loss', 'loss_rec_audio', 'loss_rec_video', 'acc_inter'}
