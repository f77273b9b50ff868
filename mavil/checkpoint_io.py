"""Checkpoint files with torch >= 2.6 (weights_only by default): file-level I/O, below both
``mavil.engine`` (the runner's resume / save) and ``mavil.models`` (teachers, pre-trained
weights).

Policy:
  * weights for initialisation (``load_from``, teachers, fine-tuning) load with
    ``weights_only=True``; MMEngine's bookkeeping objects and numpy scalars in the ``meta`` /
    ``message_hub`` entries are allow-listed as plain data, nothing else is.
  * full unpickling only when the caller says the file is trusted (resuming a run's own
    checkpoint, or the explicit ``--unsafe-load`` opt-in).
"""
import os
import pickle
from contextlib import contextmanager
from typing import Callable, Iterator, Union

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


def load_checkpoint_file(path: str, map_location: MapLocation = 'cpu', *,
                         trusted: bool = False) -> dict:
    """Load a checkpoint dict; raises with the file name and the way out on refusal."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not trusted:
            raise RuntimeError(
                f'{path} holds objects beyond tensors and plain data, so it was not '
                f'unpickled (weights-only loading). If you trust this file, pass '
                f'--unsafe-load (tools/*.py) or unsafe_load=True in the config. Detail: {err}'
            ) from err
    return torch.load(path, map_location=map_location, weights_only=False)


def model_state_dict(checkpoint: dict) -> dict:
    """The model weights of a checkpoint dict (MMEngine's 'state_dict' / 'model' / bare)."""
    for key in ('state_dict', 'model'):
        if key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    return checkpoint
