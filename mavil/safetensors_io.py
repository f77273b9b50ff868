"""Weights as ``.safetensors``: plain tensors plus string metadata, nothing to unpickle.

A file written by :func:`export_safetensors` carries in its metadata:

* ``mavil_config``: the full config the model was built from (``Config.pretty_text``), so
  ``mavil.apis.init_model(None, 'model.safetensors')`` rebuilds the model without the
  original config file;
* ``mavil_parts``: the top-level modules stored (e.g. ``audio_encoder,video_encoder,fusion``);
* ``mavil_format``: ``'mavil-weights-v1'``.
"""
import os
from typing import Optional, Sequence

import torch
from torch import nn

FORMAT = 'mavil-weights-v1'


def _top_modules(state: dict) -> list[str]:
    return sorted({k.split('.', 1)[0] for k in state})


def save_safetensors(state: dict[str, torch.Tensor], path: str,
                     metadata: Optional[dict[str, str]] = None) -> str:
    """Write ``state`` atomically (``path.tmp`` then rename)."""
    from safetensors.torch import save_file
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
    tmp = f'{path}.tmp'
    save_file(tensors, tmp, metadata={k: str(v) for k, v in (metadata or {}).items()})
    os.replace(tmp, path)
    return path


def export_safetensors(model: nn.Module, path: str, cfg=None,
                       parts: Optional[Sequence[str]] = None) -> str:
    """Save ``model``'s weights (optionally only the top-level modules ``parts``, e.g.
    ``('audio_encoder', 'video_encoder', 'fusion')``) with its config in the metadata.

    Args:
        model: the model; ``cfg`` defaults to ``model.cfg`` (set by ``init_model``).
        path: output ``.safetensors`` file.
        cfg: an mmengine ``Config`` (or None: no config stored).
        parts: top-level module names to keep; None keeps everything.
    """
    state = model.state_dict()
    available = _top_modules(state)
    if parts is not None:
        unknown = sorted(set(parts) - set(available))
        if unknown:
            raise KeyError(f'{type(model).__name__} has no modules {unknown}; it has '
                           f'{available}')
        state = {k: v for k, v in state.items() if k.split('.', 1)[0] in parts}
    cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
    metadata = {'mavil_format': FORMAT, 'mavil_parts': ','.join(_top_modules(state)),
                'mavil_model_type': type(model).__name__}
    if cfg is not None:
        metadata['mavil_config'] = cfg.pretty_text
    return save_safetensors(state, path, metadata)


def read_metadata(path: str) -> dict[str, str]:
    from safetensors import safe_open
    if not os.path.isfile(path):
        raise FileNotFoundError(f'weights file not found: {path}')
    with safe_open(path, framework='pt') as f:
        return dict(f.metadata() or {})


def load_safetensors(path: str, device: str = 'cpu') -> dict[str, torch.Tensor]:
    """The tensors of ``path`` (nothing unpickled)."""
    from safetensors.torch import load_file
    if not os.path.isfile(path):
        raise FileNotFoundError(f'weights file not found: {path}')
    return load_file(path, device=device)


def config_from_safetensors(path: str):
    """The ``Config`` stored in ``path``'s metadata; a clear error when there is none."""
    from mmengine.config import Config
    text = read_metadata(path).get('mavil_config')
    if not text:
        raise KeyError(f'{path} stores no config (not written by export_safetensors?); pass '
                       f'the config file explicitly')
    return Config.fromstring(text, '.py')


def stored_parts(path: str) -> Optional[list[str]]:
    parts = read_metadata(path).get('mavil_parts')
    return parts.split(',') if parts else None
