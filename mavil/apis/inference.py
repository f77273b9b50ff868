"""Use a trained model: load it, embed clips, classify clips.

    model = init_model('configs/demo/stage1.py', 'work_dirs/demo/stage1/iter_300.pth')
    feats = extract_features(model, ['a.mp4', 'b.mp4'])     # {'audio': [N, D], 'video': ...}
    init_model(ft_config, ft_ckpt) -> inference_classifier(model, 'clip.mp4')

Inputs go through the config's TEST pipeline (:mod:`mavil.apis.pipeline`): no augmentation,
centre crop, deterministic clip placement (multi-clip where the config says so).
"""
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config
from torch import nn

from mavil.registry import MODELS, build_component

ConfigLike = Union[str, Config, dict]


def load_config(config: ConfigLike, cfg_options: Optional[dict] = None) -> Config:
    """A config file, ``Config`` or dict -> ``Config`` with ``cfg_options`` merged in."""
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config not found: {config}')
        cfg = Config.fromfile(config)
    elif isinstance(config, Config):
        cfg = config.copy()
    elif isinstance(config, dict):
        cfg = Config(config)
    else:
        raise TypeError(f'config must be a path, Config or dict, got {type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config {getattr(cfg, "filename", None) or "<dict>"} has no "model"')
    return cfg


def init_model(config: ConfigLike, checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu', *, cfg_options: Optional[dict] = None,
               unsafe_load: bool = False, strict: bool = True) -> nn.Module:
    """Build the config's model, load a checkpoint, move it to ``device``, eval mode.

    Args:
        config: any of our configs (``MAViL`` pre-training, ``AVClassifier``,
            ``AVRetriever``), as a path, ``Config`` or dict.
        checkpoint: a ``.pth`` checkpoint (loaded weights-only: tensors and plain data, nothing
            else is unpickled unless ``unsafe_load``) or a ``.safetensors`` file written by
            :func:`mavil.models.utils.export_safetensors` (never unpickled). None: the
            config's initial weights.
        device: where the model goes.
        cfg_options: overrides merged into the config first.
        unsafe_load: allow full unpickling of a ``.pth`` file you trust.
        strict: every model weight must be in the checkpoint and vice versa.

    Returns:
        The model in eval mode; ``model.cfg`` is the config it was built from.
    """
    cfg = load_config(config, cfg_options)
    model = build_component(MODELS, cfg.model)
    if checkpoint is not None:
        load_weights(model, checkpoint, unsafe_load=unsafe_load, strict=strict)
    model.cfg = cfg
    return model.to(device).eval()


def load_weights(model: nn.Module, checkpoint: str, *, unsafe_load: bool = False,
                 strict: bool = True) -> None:
    """Load ``.pth`` (weights-only) or ``.safetensors`` weights into ``model`` in place."""
    if checkpoint.endswith('.safetensors'):
        from mavil.safetensors_io import load_safetensors
        state = load_safetensors(checkpoint)
    else:
        from mavil.checkpoint_io import load_checkpoint_file, model_state_dict
        state = model_state_dict(load_checkpoint_file(checkpoint, trusted=unsafe_load))
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    result = model.load_state_dict(state, strict=False)
    problems = []
    if result.missing_keys:
        problems.append(f'missing in the checkpoint: {_few(result.missing_keys)}')
    if result.unexpected_keys:
        problems.append(f'not in the model: {_few(result.unexpected_keys)}')
    if strict and problems:
        raise RuntimeError(f'{checkpoint} does not fit {type(model).__name__}: '
                           + '; '.join(problems) + '. Is it a checkpoint of this config?')


def _few(keys: list[str], limit: int = 8) -> str:
    more = len(keys) - limit
    return ', '.join(keys[:limit]) + (f', ... ({more} more)' if more > 0 else '')
