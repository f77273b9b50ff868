"""Weights as ``.safetensors``: plain tensors plus string metadata; loading one never runs code.

A file written by :func:`export_safetensors` carries in its metadata:

* ``mavil_config_json``: the config the model was built from as JSON data
  (``Config.to_dict()``), so ``mavil.apis.init_model(None, 'model.safetensors')`` rebuilds the
  model without the original config file. It is data, not Python: on load it is checked by
  :func:`mavil.apis.stored_config.config_from_safetensors` (plain JSON values, every ``type``
  a registered component, no Python file named; its ``custom_imports`` are dropped, never
  imported) before anything is built;
* ``mavil_parts``: the top-level modules stored (e.g. ``audio_encoder,video_encoder,fusion``);
* ``mavil_pos_layouts``: JSON ``{module: layout}`` of the encoders' fixed position tables
  (:func:`mavil.weights.checkpoint_io.pos_layouts`), checked against the receiving model at
  load;
* ``mavil_format``: ``'mavil-weights-v2'``.
"""
import json
import os
from typing import Any, Optional, Sequence

import torch
from torch import nn

FORMAT = 'mavil-weights-v2'
CONFIG_KEY = 'mavil_config_json'
LAYOUTS_KEY = 'mavil_pos_layouts'
PYTHON_CONFIG_KEY = 'mavil_config'  # Python config text (format v1 files): never executed


class WeightsFileError(ValueError):
    """A ``.safetensors`` file that cannot be read, or whose metadata is refused."""


def _top_modules(state: dict) -> list[str]:
    return sorted({k.split('.', 1)[0] for k in state})


def is_safetensors_file(path: str) -> bool:
    """``.safetensors`` by name, or by content: an 8-byte little-endian header length
    followed by a JSON header (``{``) that fits in the file."""
    if str(path).endswith('.safetensors'):
        return True
    try:
        with open(path, 'rb') as f:
            head = f.read(9)
    except OSError:
        return False
    return (len(head) == 9 and head[8:9] == b'{'
            and 0 < int.from_bytes(head[:8], 'little') < os.path.getsize(path))


def save_safetensors(state: dict[str, torch.Tensor], path: str,
                     metadata: Optional[dict[str, str]] = None) -> str:
    """Write ``state`` atomically (``path.tmp`` then rename)."""
    from safetensors.torch import save_file
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
    tmp = f'{path}.tmp'
    save_file(tensors, tmp, metadata={k: str(v) for k, v in (metadata or {}).items()})
    os.replace(tmp, path)
    return path


def config_as_json(cfg) -> str:
    """A ``Config`` as JSON text; a value JSON cannot hold (an object, a function) is an
    error naming its key."""
    data = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)

    def check(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError(f'config key {where}.{key!r} is not a string')
                check(item, f'{where}.{key}' if where else key)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                check(item, f'{where}[{i}]')
        elif not (value is None or isinstance(value, (str, bool, int, float))):
            raise TypeError(f'config value {where} = {value!r} ({type(value).__name__}) cannot '
                            'be stored as data in a .safetensors file; pass cfg=None to store '
                            'no config')

    check(data, '')
    return json.dumps(data, sort_keys=True)


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
    from .checkpoint_io import pos_layouts  # here: checkpoint_io imports this module
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
                'mavil_model_type': type(model).__name__,
                LAYOUTS_KEY: json.dumps(pos_layouts(model), sort_keys=True)}
    if cfg is not None:
        metadata[CONFIG_KEY] = config_as_json(cfg)
    return save_safetensors(state, path, metadata)


def _unreadable(path: str, err: Exception) -> WeightsFileError:
    return WeightsFileError(f'{path}: not a readable .safetensors file (truncated, corrupt or '
                            f'another format?): {type(err).__name__}: {err}')


def read_metadata(path: str) -> dict[str, str]:
    from safetensors import safe_open
    if not os.path.isfile(path):
        raise FileNotFoundError(f'weights file not found: {path}')
    try:
        with safe_open(path, framework='pt') as f:
            return dict(f.metadata() or {})
    except Exception as err:  # SafetensorError, OSError, header JSON errors
        raise _unreadable(path, err) from err


def load_safetensors(path: str, device: str = 'cpu') -> dict[str, torch.Tensor]:
    """The tensors of ``path`` (nothing unpickled)."""
    from safetensors.torch import load_file
    if not os.path.isfile(path):
        raise FileNotFoundError(f'weights file not found: {path}')
    try:
        return load_file(path, device=device)
    except Exception as err:
        raise _unreadable(path, err) from err


def safetensors_checkpoint(path: str) -> dict:
    """``{'state_dict': tensors, 'meta': {'pos_layouts': ...}}``: a ``.safetensors`` file in
    the shape of a ``.pth`` checkpoint (for ``load_from``, teachers, converters)."""
    state = load_safetensors(path)
    meta = {'pos_layouts': stored_pos_layouts(path)}
    return {'state_dict': state, 'meta': {k: v for k, v in meta.items() if v is not None}}


def stored_pos_layouts(path: str) -> Optional[dict[str, str]]:
    text = read_metadata(path).get(LAYOUTS_KEY)
    if not text:
        return None
    try:
        layouts = json.loads(text)
    except json.JSONDecodeError as err:
        raise WeightsFileError(f'{path}: metadata {LAYOUTS_KEY} is not JSON ({err})') from err
    if not (isinstance(layouts, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in layouts.items())):
        raise WeightsFileError(f'{path}: metadata {LAYOUTS_KEY} must map module names to '
                               f'layout names, got {text[:200]!r}')
    return layouts


def stored_parts(path: str) -> Optional[list[str]]:
    parts = read_metadata(path).get('mavil_parts')
    return parts.split(',') if parts else None
