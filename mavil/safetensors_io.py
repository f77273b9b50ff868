"""Weights as ``.safetensors``: plain tensors plus string metadata; loading one never runs code.

A file written by :func:`export_safetensors` carries in its metadata:

* ``mavil_config_json``: the config the model was built from as JSON data
  (``Config.to_dict()``), so ``mavil.apis.init_model(None, 'model.safetensors')`` rebuilds the
  model without the original config file. It is data, not Python: on load it is checked by
  :func:`config_from_safetensors` (plain JSON values, every ``type`` a registered component,
  no Python file named; its ``custom_imports`` are dropped, never imported) before anything
  is built;
* ``mavil_parts``: the top-level modules stored (e.g. ``audio_encoder,video_encoder,fusion``);
* ``mavil_pos_layouts``: JSON ``{module: layout}`` of the encoders' fixed position tables
  (:func:`mavil.checkpoint_io.pos_layouts`), checked against the receiving model at load;
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
PYTHON_CONFIG_KEY = 'mavil_config'  # Python text in files of older versions: never executed


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
    from mavil.checkpoint_io import pos_layouts
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


def _registered_types() -> set[str]:
    """Names registered in mavil's registries and MMEngine's root registries."""
    import mavil.datasets  # noqa: F401  (fill the registries)
    import mavil.engine  # noqa: F401
    import mavil.evaluation  # noqa: F401
    import mavil.models  # noqa: F401
    import mmengine.registry as roots
    from mmengine.registry import Registry

    from mavil import registry as ours
    names: set[str] = set()
    for reg in [*vars(ours).values(), *vars(roots).values()]:
        while isinstance(reg, Registry):
            names |= set(reg._module_dict)
            reg = reg.parent
    return names


def _is_registered_name(name: Any, known: set[str]) -> bool:
    """``'Name'`` or ``'mavil.Name'`` / ``'mmengine.Name'`` of a registered component: a
    lookup that imports nothing (other scopes and dotted paths make MMEngine import them)."""
    if not isinstance(name, str):
        return False
    scope, _, real = name.rpartition('.')
    return scope in ('', 'mavil', 'mmengine') and real in known


def check_config_data(data: Any, path: str) -> None:
    """Refuse a stored config that could make building it run code: values other than plain
    JSON, a ``type`` that is not a registered component (MMEngine would import it by name),
    or a Python file it names (e.g. a teacher config, which loading would execute).
    ``custom_imports`` are checked by the caller (dropped: never imported from a file)."""
    known = _registered_types()
    problems: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                here = f'{where}.{key}' if where else str(key)
                if key == 'type' and not _is_registered_name(item, known):
                    problems.append(f'{here} = {item!r} (not a registered component)')
                else:
                    walk(item, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f'{where}[{i}]')
        elif isinstance(value, str):
            if value.strip().endswith('.py'):
                problems.append(f'{where} = {value!r} (a Python file: loading it runs its code)')
        elif not (value is None or isinstance(value, (bool, int, float))):
            problems.append(f'{where}: {type(value).__name__}')

    if not isinstance(data, dict):
        raise WeightsFileError(f'{path}: metadata {CONFIG_KEY} is not a JSON object')
    walk(data, '')
    if problems:
        shown = '; '.join(problems[:10]) + (f'; ... ({len(problems) - 10} more)'
                                             if len(problems) > 10 else '')
        raise WeightsFileError(
            f'{path}: the config stored in the file is refused, as building it could run code: '
            f'{shown}. Pass the config file yourself: init_model(CONFIG, {path!r}) or the '
            'tools\' CONFIG argument.')


def config_from_safetensors(path: str):
    """The ``Config`` stored as data in ``path``'s metadata, checked by
    :func:`check_config_data`; a clear error when there is none. Nothing is executed."""
    from mmengine.config import Config
    metadata = read_metadata(path)
    text = metadata.get(CONFIG_KEY)
    if not text:
        if metadata.get(PYTHON_CONFIG_KEY):
            raise WeightsFileError(
                f'{path} stores its config as Python text ({PYTHON_CONFIG_KEY}), which is never '
                'executed from a weights file: building from it could run any code. Pass the '
                'config file yourself (init_model(CONFIG, path), the tools\' CONFIG argument), '
                'or re-export the file with tools/convert_weights.py export to store the '
                'config as data.')
        raise KeyError(f'{path} stores no config (not written by export_safetensors?); pass '
                       f'the config file explicitly')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise WeightsFileError(f'{path}: metadata {CONFIG_KEY} is not JSON ({err})') from err
    if isinstance(data, dict):
        data.pop('custom_imports', None)  # modules are never imported on a file's word
    check_config_data(data, path)
    return Config(data)


def stored_parts(path: str) -> Optional[list[str]]:
    parts = read_metadata(path).get('mavil_parts')
    return parts.split(',') if parts else None
