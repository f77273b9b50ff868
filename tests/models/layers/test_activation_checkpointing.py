"""``with_cp`` (activation checkpointing) on encoders, fusion and decoders: the same losses and
gradients as without it, and every block really runs twice (forward, then recomputed)."""
import copy

import pytest
import torch

from mavil.models.layers import Block
from mavil.registry import MODELS

CP_COMPONENTS = ('audio_encoder', 'video_encoder', 'fusion', 'audio_decoder', 'video_decoder')
FUSIONS = {
    'joint': None,  # the config's JointFusion
    'mbt': dict(type='MBTFusion', embed_dim=64, depth=2, num_heads=4, share_weights=False),
}


def _losses_and_grads(model, inputs, seed: int = 1):
    torch.manual_seed(seed)  # same masks and drop-path draws for both models
    losses = model.loss(inputs)
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    total.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return {k: v.detach() for k, v in losses.items()}, grads


@pytest.mark.parametrize('fusion', list(FUSIONS))
def test_with_cp_matches_plain_backward(fusion, tiny_model_cfg, tiny_inputs):
    cfg = copy.deepcopy(tiny_model_cfg)
    if FUSIONS[fusion] is not None:
        cfg['fusion'] = FUSIONS[fusion]
    for name in ('audio_encoder', 'video_encoder', 'fusion'):
        cfg[name]['drop_path_rate'] = 0.2  # random per call: recomputation must redraw it alike
    plain = MODELS.build(cfg).train()
    cp_cfg = copy.deepcopy(cfg)
    for name in CP_COMPONENTS:
        cp_cfg[name]['with_cp'] = True
    checkpointed = MODELS.build(cp_cfg).train()
    checkpointed.load_state_dict(plain.state_dict())
    assert all(getattr(checkpointed, n).with_cp for n in CP_COMPONENTS)
    assert not any(getattr(plain, n).with_cp for n in CP_COMPONENTS)  # off by default

    calls = {'plain': 0, 'cp': 0}

    def counter(key):
        def hook(*_):
            calls[key] += 1
        return hook

    for key, model in (('plain', plain), ('cp', checkpointed)):
        for module in model.modules():
            if isinstance(module, Block):
                module.register_forward_pre_hook(counter(key))

    losses, grads = _losses_and_grads(plain, tiny_inputs)
    cp_losses, cp_grads = _losses_and_grads(checkpointed, tiny_inputs)
    # checkpointed blocks start again during backward (pre-hooks: the recomputation may stop
    # early once it has what backward needs)
    assert calls['cp'] == 2 * calls['plain'] > 0
    assert losses.keys() == cp_losses.keys()
    for k in losses:
        torch.testing.assert_close(cp_losses[k], losses[k], rtol=0, atol=0)
    assert grads.keys() == cp_grads.keys() and len(grads) == len(list(plain.parameters()))
    for name in grads:
        torch.testing.assert_close(cp_grads[name], grads[name], rtol=1e-5, atol=1e-7,
                                   msg=lambda m: f'{name}: {m}')


def test_with_cp_is_inert_without_autograd(tiny_model_cfg, tiny_inputs):
    cfg = copy.deepcopy(tiny_model_cfg)
    cfg['audio_encoder']['with_cp'] = True
    model = MODELS.build(cfg).eval()
    plain = model.audio_encoder.encode(model.audio_encoder.embed(tiny_inputs['audio']))
    with torch.no_grad():  # no checkpoint (nothing to save): plain forward, same output
        out = model.audio_encoder.encode(model.audio_encoder.embed(tiny_inputs['audio']))
    torch.testing.assert_close(out, plain.detach(), rtol=0, atol=0)
