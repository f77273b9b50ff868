"""Fewer optimizer parameter groups: groups whose settings are all equal become one.

MMEngine's ``DefaultOptimWrapperConstructor`` with a ``paramwise_cfg`` makes one group per
tensor (182 for the demo's model). A fused or foreach AdamW then runs once per group, and on a
small model those per-group calls cost as much as the arithmetic (the demo: 12-14 ms per step
with 182 groups, 6 ms with the 3 distinct settings, benchmarks/small_step.py). Merging changes
nothing in the update: every parameter keeps its lr, weight decay and betas, and schedulers
scale each group's lr by the same factor.
"""
from typing import Optional

import torch
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mavil.registry import OPTIM_WRAPPER_CONSTRUCTORS


def _setting_key(group: dict) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in group.items() if k != 'params'))


def merge_param_groups(optimizer: torch.optim.Optimizer) -> int:
    """Merge, in place, the groups of ``optimizer`` whose settings (every key but ``params``)
    are equal; parameters keep their order within each setting. Call before a scheduler or a
    step: it refuses an optimizer that already has state. Returns the number of groups."""
    if optimizer.state:
        raise RuntimeError('merge_param_groups: the optimizer already has state; merge its '
                           'groups right after building it')
    merged: dict[tuple, dict] = {}
    for group in optimizer.param_groups:
        key = _setting_key(group)
        if key in merged:
            merged[key]['params'].extend(group['params'])
        else:
            merged[key] = dict(group, params=list(group['params']))
    optimizer.param_groups[:] = list(merged.values())
    return len(optimizer.param_groups)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MergedGroupsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor (``paramwise_cfg`` as usual), then groups with equal
    settings merged (:func:`merge_param_groups`): same updates, fewer optimizer calls."""

    def __call__(self, model: nn.Module, *args, **kwargs):
        wrapper = super().__call__(model, *args, **kwargs)
        merge_param_groups(wrapper.optimizer)
        return wrapper


__all__ = ['MergedGroupsOptimWrapperConstructor', 'merge_param_groups']
