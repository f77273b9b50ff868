"""The tiny stage-1 MAViL: every trainable parameter receives a finite gradient from one
backward of the summed losses, for each fusion variant."""
import pytest
import torch

from mavil.registry import MODELS

FUSIONS = {
    'joint': 'from-config',  # JointFusion, as in configs/mavil/stage1.py
    'mbt_shared': dict(type='MBTFusion', embed_dim=64, depth=2, num_heads=4, share_weights=True),
    'mbt_separate': dict(type='MBTFusion', embed_dim=64, depth=2, num_heads=4,
                         share_weights=False),
    'none': None,
}


@pytest.mark.parametrize('fusion', list(FUSIONS))
def test_every_parameter_gets_a_finite_gradient(fusion, tiny_model_cfg, tiny_inputs):
    if FUSIONS[fusion] != 'from-config':
        tiny_model_cfg['fusion'] = FUSIONS[fusion]
    model = MODELS.build(tiny_model_cfg)
    model.train()
    expected_type = {'joint': 'JointFusion', 'none': None}.get(fusion, 'MBTFusion')
    assert (type(model.fusion).__name__ if model.fusion is not None else None) == expected_type

    losses = model.loss(tiny_inputs)
    assert set(losses) == {'loss_rec_audio', 'loss_rec_video', 'loss_nce_inter',
                           'loss_nce_intra', 'acc_inter', 'acc_intra', 'negatives_inter',
                           'negatives_intra'}
    # one process, batch 4: each query sees the 3 other clips as negatives
    assert float(losses['negatives_inter']) == float(losses['negatives_intra']) == 3
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    assert torch.isfinite(total)
    total.backward()

    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f'parameters without a gradient: {missing}'
    bad = [n for n, p in model.named_parameters()
           if p.requires_grad and not torch.isfinite(p.grad).all()]
    assert not bad, f'parameters with a non-finite gradient: {bad}'
    # the diagnostics stay out of the graph
    assert not losses['acc_inter'].requires_grad and not losses['acc_intra'].requires_grad


def test_parse_losses_sums_only_loss_terms(tiny_model_cfg, tiny_inputs):
    model = MODELS.build(tiny_model_cfg)
    losses = model.loss(tiny_inputs)
    total, log_vars = model.parse_losses(losses)
    expected = sum(float(v) for k, v in losses.items() if k.startswith('loss_'))
    assert float(total) == pytest.approx(expected, rel=1e-6)
    assert 'acc_inter' in log_vars and 'acc_intra' in log_vars
