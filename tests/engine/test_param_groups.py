"""Merging optimizer groups with equal settings: the same updates with fewer groups."""
import copy

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

from mavil.engine.param_groups import merge_param_groups

OPTIM = dict(optimizer=dict(type='AdamW', lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1,
                            fused=True),
             paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                                custom_keys={'token': dict(decay_mult=0.0)}))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, 4))
        self.fc1, self.norm, self.fc2 = nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.norm(self.fc1(x + self.token)))


def settings(optimizer) -> dict:
    return {id(p): {k: v for k, v in g.items() if k != 'params'}
            for g in optimizer.param_groups for p in g['params']}


def test_merged_groups_train_exactly_like_per_tensor_groups():
    torch.manual_seed(0)
    nets = [Net(), None]
    nets[1] = copy.deepcopy(nets[0])
    wrappers = [build_optim_wrapper(n, copy.deepcopy(OPTIM)) for n in nets]
    before = len(wrappers[1].optimizer.param_groups)
    per_param = {name: settings(wrappers[1].optimizer)[id(p)]
                 for name, p in nets[1].named_parameters()}
    # decay; no decay (norms, biases); no decay by custom key (which records its decay_mult)
    assert merge_param_groups(wrappers[1].optimizer) == 3 < before
    assert {name: settings(wrappers[1].optimizer)[id(p)]
            for name, p in nets[1].named_parameters()} == per_param
    schedulers = [torch.optim.lr_scheduler.LinearLR(w.optimizer, start_factor=0.1,
                                                    total_iters=3) for w in wrappers]
    x = torch.randn(5, 4)
    for _ in range(4):
        for net, wrapper, scheduler in zip(nets, wrappers, schedulers):
            wrapper.update_params(net(x).pow(2).mean())
            scheduler.step()
    for (name, a), b in zip(nets[0].named_parameters(), nets[1].parameters()):
        assert torch.equal(a, b), name


def test_refuses_an_optimizer_with_state():
    net = Net()
    optimizer = torch.optim.AdamW([{'params': [p]} for p in net.parameters()])
    net(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    with pytest.raises(RuntimeError, match='already has state'):
        merge_param_groups(optimizer)


def test_constructor_from_config():
    import mavil.engine  # noqa: F401  (registers the constructor)
    with DefaultScope.overwrite_default_scope('mavil'):  # as in a runner of our configs
        wrapper = build_optim_wrapper(
            Net(), dict(copy.deepcopy(OPTIM), constructor='MergedGroupsOptimWrapperConstructor'))
    assert len(wrapper.optimizer.param_groups) == 3
    assert sum(len(g['params']) for g in wrapper.optimizer.param_groups) == 7
