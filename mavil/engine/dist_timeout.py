"""How long a rank waits in a collective, and an error that says who waited for what.

A stopped, hung or dead rank leaves the others blocked inside a collective until the process
group's timeout expires; torch's default for gloo is 30 minutes. ``env_cfg.dist_cfg.timeout``
(seconds) sets it on every backend, :data:`DEFAULT_TIMEOUT` when the config has none. Gloo then
raises a bare ``Timed out waiting ...ms for recv``; :func:`naming_timeouts` turns that into an
error naming this rank, the collective and the code that called it.
"""
import contextlib
import os.path as osp
import re
import traceback
from typing import Iterator

import torch.distributed as dist

DEFAULT_TIMEOUT = 300  # s: far above a checkpoint save or an uneven evaluation shard
# gloo: 'Timed out waiting 5000ms for recv operation'; NCCL: 'Watchdog caught collective
# operation timeout'; c10d's own errors (DistBackendError) saying 'timed out' / 'timeout'
_COLLECTIVE_TIMEOUT = re.compile(r'Timed out waiting \d+ ?ms|collective operation timeout')
_ANY_TIMEOUT = re.compile(r'timed? ?out|timeout', re.IGNORECASE)


class CollectiveTimeoutError(RuntimeError):
    """A collective did not complete within ``env_cfg.dist_cfg.timeout``."""


def resolve_timeout(env_cfg: dict) -> float:
    """``env_cfg.dist_cfg.timeout`` in seconds (:data:`DEFAULT_TIMEOUT` when unset)."""
    value = (env_cfg.get('dist_cfg') or {}).get('timeout', DEFAULT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f'env_cfg.dist_cfg.timeout must be a positive number of seconds, got '
                         f'{value!r}')
    return float(value)


def _is_torch_frame(frame: traceback.FrameSummary, *parts: str) -> bool:
    path = frame.filename.replace(osp.sep, '/')
    return any(f'/torch/{part}' in path for part in parts)


def describe_collective(err: BaseException) -> str:
    """The collective a failure happened in, from its traceback: the outermost
    ``torch.distributed`` call and its caller, DDP's own synchronisation in forward, or DDP's
    gradient all-reduce in backward."""
    frames = traceback.extract_tb(err.__traceback__)
    for i, frame in enumerate(frames):
        if _is_torch_frame(frame, 'distributed/'):
            caller = next((f for f in reversed(frames[:i]) if not _is_torch_frame(f, '')), None)
            where = f', called from {caller.filename}:{caller.lineno} ({caller.name})' \
                if caller else ''
            return f'torch.distributed.{frame.name}{where}'
    ddp = [f for f in frames if _is_torch_frame(f, 'nn/parallel/distributed.py')]
    if ddp:  # e.g. the bucket rebuild of the second iteration broadcasts from rank 0
        return f'DistributedDataParallel\'s synchronisation in {ddp[-1].name} ' \
            f'({ddp[-1].filename}:{ddp[-1].lineno})'
    if any(_is_torch_frame(f, 'autograd/', '_tensor.py') and 'backward' in f.name
           for f in frames):
        return 'the gradient all-reduce of DistributedDataParallel (in backward)'
    last = frames[-1] if frames else None
    return f'a collective ({last.filename}:{last.lineno} {last.name})' if last else \
        'a collective'


@contextlib.contextmanager
def naming_timeouts(timeout: float) -> Iterator[None]:
    """Re-raise a collective's timeout as :class:`CollectiveTimeoutError` naming this rank and
    the collective; other errors pass unchanged."""
    try:
        yield
    except RuntimeError as err:
        backend_error = isinstance(err, getattr(dist, 'DistBackendError', ()))
        if isinstance(err, CollectiveTimeoutError) or not dist.is_initialized() or not (
                _COLLECTIVE_TIMEOUT.search(str(err)) or
                (backend_error and _ANY_TIMEOUT.search(str(err)))):
            raise  # e.g. a DataLoader worker timeout is no collective's
        raise CollectiveTimeoutError(
            f'rank {dist.get_rank()} of {dist.get_world_size()}: '
            f'{describe_collective(err)} timed out after {timeout:g} s waiting for the other '
            f'ranks (env_cfg.dist_cfg.timeout): another rank is stopped, hung or dead; see its '
            f'log ({type(err).__name__}: {err})') from err
