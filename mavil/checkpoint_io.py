"""Checkpoint files with torch >= 2.6 (weights_only by default): file-level I/O, below both
``mavil.engine`` (the runner's resume / save) and ``mavil.models`` (teachers, pre-trained
weights).

Policy:
  * weights for initialisation (``load_from``, teachers, fine-tuning) load with
    ``weights_only=True``; MMEngine's bookkeeping objects and numpy scalars in the ``meta`` /
    ``message_hub`` entries are allow-listed as plain data, nothing else is.
  * resuming loads weights-only too (the project's own checkpoints are plain data: tensors,
    numbers, strings and the message hub's history); full unpickling, which can run code
    stored in the file, only with the explicit ``--unsafe-load`` opt-in (``trusted=True``).
  * a ``.safetensors`` file (by name or content) is read as tensors, never unpickled; its
    metadata config is not used here (see :mod:`mavil.safetensors_io`).
  * files record the encoders' fixed position-table layouts (``meta['pos_layouts']``, see
    :func:`pos_layouts`); loading into a model whose layouts differ is refused.
  * every write goes to ``NAME.tmp`` first and is renamed into place once complete, so a
    ``.pth`` file is always whole; a ``.tmp`` left by a crash is removed by the next run.
"""
import os
import pickle
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

MapLocation = Union[str, torch.device, Callable, None]


def _safe_globals() -> list:
    """Plain-data types found in MMEngine checkpoints (message hub history, numpy scalars)."""
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    allowed: list = [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
                     multiarray.scalar]
    allowed += [type(np.dtype(t)) for t in ('float64', 'float32', 'int64', 'int32', 'bool')]
    return allowed


def _history_buffer_state(self: HistoryBuffer) -> dict:
    # MMEngine pickles its statistics functions through builtins.getattr, which weights-only
    # loading rightly refuses; they are class-level defaults, re-registered on import.
    return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}


@contextmanager
def plain_data_message_hub() -> Iterator[None]:
    """While saving, pickle HistoryBuffers as plain data (loadable with weights_only)."""
    original = HistoryBuffer.__getstate__
    HistoryBuffer.__getstate__ = _history_buffer_state
    try:
        yield
    finally:
        HistoryBuffer.__getstate__ = original


TMP_SUFFIX = '.tmp'


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint holds pickled objects beyond plain data; it was not unpickled."""


def load_checkpoint_file(path: str, map_location: MapLocation = 'cpu', *,
                         trusted: bool = False, purpose: str = 'loading') -> dict:
    """Load a checkpoint dict weights-only (full unpickling only when ``trusted``).

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpointError: the file needs full unpickling and ``trusted`` is False; the
            message names the file, why it was refused and the way out (``--unsafe-load``).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    from mavil.safetensors_io import is_safetensors_file, safetensors_checkpoint
    if is_safetensors_file(path):
        return safetensors_checkpoint(path)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not trusted:
            raise UnsafeCheckpointError(
                f'{purpose} {path}: the file holds pickled objects beyond tensors and plain '
                'data, so it was not unpickled: unpickling can run code stored in the file '
                '(weights-only loading refuses it). Checkpoints written by this project never '
                'need it; a file from an older MMEngine run or another tool may. Only if you '
                'trust where it came from, pass --unsafe-load (tools/*.py) or set '
                f'unsafe_load=True in the config. Detail: {err}') from err
    return torch.load(path, map_location=map_location, weights_only=False)


def _write_atomically(path: str, write: Callable[[Any], None], mode: str) -> None:
    tmp = path + TMP_SUFFIX
    try:
        with open(tmp, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except Exception as err:  # e.g. disk full: drop the partial file, keep the old one
        if os.path.exists(tmp):
            os.remove(tmp)
        raise OSError(f'could not write {path} ({type(err).__name__}: {err}); '
                      'any previous version of it is intact') from err
    os.replace(tmp, path)


def atomic_write_text(path: str, text: str) -> None:
    """Write a small text file (e.g. MMEngine's ``last_checkpoint`` pointer) atomically."""
    _write_atomically(path, lambda f: f.write(text), 'w')


def fsync_file(path: str) -> None:
    """Flush a written file's data to disk (before renaming it into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(folder: str) -> list[str]:
    """Delete ``*.pth.tmp`` files that a crash during a save left in ``folder``; returns them."""
    if not os.path.isdir(folder):
        return []
    stale = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                   if name.endswith('.pth' + TMP_SUFFIX))
    for path in stale:
        os.remove(path)
    return stale


def model_state_dict(checkpoint: dict) -> dict:
    """The model weights of a checkpoint dict (MMEngine's 'state_dict' / 'model' / bare)."""
    for key in ('state_dict', 'model'):
        if key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    return checkpoint


POS_LAYOUTS = 'pos_layouts'


def pos_layouts(model: Any) -> dict[str, str]:
    """``{module name: pos_layout}`` of the modules with a fixed position table (encoders)."""
    return {name: module.pos_layout for name, module in model.named_modules()
            if name and isinstance(getattr(module, 'pos_layout', None), str)}


def recorded_pos_layouts(checkpoint: Mapping) -> Optional[dict[str, str]]:
    """The layouts a checkpoint dict records (``meta['pos_layouts']``), None when it has none."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    layouts = meta.get(POS_LAYOUTS) if isinstance(meta, Mapping) else None
    return dict(layouts) if isinstance(layouts, Mapping) else None


def check_pos_layouts(model: Any, recorded: Optional[Mapping[str, str]], source: str) -> None:
    """Raise when a file's weights were trained with other position tables than ``model``
    computes (e.g. converted AudioMAE weights, ``pos_layout='audiomae'``, into a plain
    config). Modules are matched by name; files without a record are not checked."""
    if not recorded:
        return
    own = pos_layouts(model)
    wrong = [name for name, layout in own.items()
             if name in recorded and recorded[name] != layout]
    if wrong:
        differ = [f'{name}: file {recorded[name]!r}, model {own[name]!r}' for name in wrong]
        fix = ' '.join(f'model.{name}.pos_layout={recorded[name]}' for name in wrong)
        raise RuntimeError(f'{source}: its weights were trained with other fixed position '
                           f'tables than this model computes ({"; ".join(differ)}); they would '
                           f'see wrong positions. Build the model with --cfg-options {fix}')


def with_pos_layouts(checkpoint: dict, model: Any) -> dict:
    """``checkpoint`` with ``meta['pos_layouts']`` of ``model`` recorded (returns it)."""
    meta = checkpoint.setdefault('meta', {})
    meta[POS_LAYOUTS] = pos_layouts(model)
    return checkpoint
