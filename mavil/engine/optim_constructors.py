"""Optimizer parameter groups for fine-tuning: per-module lr multipliers, layer-wise lr decay
and no weight decay on norms / biases / tokens, composed explicitly.

MMEngine's ``custom_keys`` match name substrings and, once a key matches, drop every other rule
(a ``video_encoder`` lr multiplier would silently re-enable weight decay on that encoder's norms
and biases). Here each rule is applied independently::

    lr = base_lr * prod(module_lr_mult of the modules containing the parameter)
                 * layer_decay ** (num_layers - 1 - layer_id)
    weight_decay = 0 for 1-D parameters (norms, biases) and ``no_decay_names``, else base

Config (A+V fine-tuning, App. B.3: the video encoder's lr halved)::

    optim_wrapper = dict(
        constructor='FinetuneOptimWrapperConstructor',
        optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=1e-5),
        paramwise_cfg=dict(module_lr_mult=dict(video_encoder=0.5), layer_decay=1.0))

Layer ids come from the model's ``get_layer_depth(name) -> (layer_id, num_layers)`` (e.g.
``AVClassifier``); it is required only when ``layer_decay != 1``.
"""
from collections import defaultdict
from typing import Optional

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mavil.registry import OPTIM_WRAPPER_CONSTRUCTORS

DEFAULT_NO_DECAY_NAMES = ('cls_token', 'pos_embed', 'mask_token', 'bottlenecks')
KNOWN_KEYS = ('module_lr_mult', 'layer_decay', 'no_decay_names', 'decay_1d')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FinetuneOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """paramwise_cfg keys:

    * ``module_lr_mult``: {module path: multiplier}; a path names a submodule exactly
      (``'video_encoder'``, ``'av_fusion.blocks.0'``), multipliers of nested paths multiply.
    * ``layer_decay``: layer-wise lr decay factor (1.0: off).
    * ``no_decay_names``: parameter names (last path component) without weight decay.
    * ``decay_1d``: apply weight decay to 1-D parameters too (default False).
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = set(paramwise_cfg) - set(KNOWN_KEYS)
        if unknown:
            raise KeyError(f'FinetuneOptimWrapperConstructor: unknown paramwise_cfg keys '
                           f'{sorted(unknown)}; known: {KNOWN_KEYS}')
        paramwise_cfg.setdefault('module_lr_mult', {})
        paramwise_cfg.setdefault('layer_decay', 1.0)
        paramwise_cfg.setdefault('no_decay_names', DEFAULT_NO_DECAY_NAMES)
        paramwise_cfg.setdefault('decay_1d', False)
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        if self.base_lr is None:
            raise ValueError('FinetuneOptimWrapperConstructor needs optimizer.lr')

    def _module_mult(self, name: str, module_lr_mult: dict) -> float:
        mult = 1.0
        for path, value in module_lr_mult.items():
            if name.startswith(path + '.'):
                mult *= float(value)
        return mult

    def add_params(self, params: list, module: nn.Module, prefix: str = '', **kwargs) -> None:
        cfg = self.paramwise_cfg
        module_lr_mult = dict(cfg['module_lr_mult'])
        submodules = dict(module.named_modules())
        missing = [p for p in module_lr_mult if p not in submodules]
        if missing:
            raise KeyError(f'module_lr_mult names modules the model does not have: {missing}')
        layer_decay = float(cfg['layer_decay'])
        get_depth = getattr(module, 'get_layer_depth', None)
        if layer_decay != 1.0 and get_depth is None:
            raise ValueError(f'layer_decay={layer_decay} needs {type(module).__name__}.'
                             'get_layer_depth(param_name)')
        base_wd = self.base_wd or 0.0
        groups: dict[tuple[float, float], list] = defaultdict(list)
        names: dict[tuple[float, float], list[str]] = defaultdict(list)
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            scale = self._module_mult(name, module_lr_mult)
            if layer_decay != 1.0:
                layer_id, num_layers = get_depth(name)
                scale *= layer_decay**(num_layers - 1 - layer_id)
            no_decay = ((param.ndim <= 1 and not cfg['decay_1d'])
                        or name.rsplit('.', 1)[-1] in cfg['no_decay_names'])
            key = (scale, 0.0 if no_decay else base_wd)
            groups[key].append(param)
            names[key].append(name)
        for (scale, wd), group_params in sorted(groups.items(), key=lambda kv: -kv[0][0]):
            group = {'params': group_params, 'lr': self.base_lr * scale}
            if self.base_wd is not None:
                group['weight_decay'] = wd
            params.append(group)
            print_log(f'param group: lr x{scale:.4g}, weight_decay {wd:g}, '
                      f'{len(group_params)} tensors (e.g. {names[(scale, wd)][0]})',
                      logger='current')
