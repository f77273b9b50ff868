"""The config a ``.safetensors`` file stores as data (:mod:`mavil.weights.safetensors_io`),
checked before anything is built: plain JSON values, every ``type`` a registered component, no
Python file named; its ``custom_imports`` are dropped, never imported."""
import json
from typing import Any

import mmengine.registry as roots
from mmengine.registry import Registry

import mavil.datasets  # noqa: F401  (fill the registries)
import mavil.engine  # noqa: F401
import mavil.evaluation  # noqa: F401
import mavil.models  # noqa: F401
from mavil import registry as ours
from mavil.weights.matching import key_listing
from mavil.weights.safetensors_io import (CONFIG_KEY, PYTHON_CONFIG_KEY, WeightsFileError,
                                          read_metadata)


def _registered_types() -> set[str]:
    """Names registered in mavil's registries and MMEngine's root registries."""
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
        shown = key_listing(problems, limit=10, sep='; ')
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
