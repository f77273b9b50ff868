"""Which checkpoint a run resumes from, and whether a checkpoint fits a model.

Auto-resume: MMEngine reads the ``last_checkpoint`` pointer and fails when it names a file
that is gone (deleted by ``max_keep_ckpts`` before a crash) or broken. Here every ``*.pth``
of the work dir (and of the pointer's folder) is a candidate, newest first; the first one that
loads is used, and skipping the pointer's file is reported. A file that is refused because it
needs full unpickling stops the search with that error: an older checkpoint is never taken
silently in place of a newer one that is merely untrusted.
"""
import os
import os.path as osp
from typing import Callable, Optional

from torch import nn

from mavil.checkpoint_io import UnsafeCheckpointError

LAST_CHECKPOINT = 'last_checkpoint'


def read_pointer(work_dir: str) -> Optional[str]:
    """The path ``last_checkpoint`` names, or None (no file, or an empty one)."""
    path = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip() or None


def resume_candidates(work_dir: str) -> list[str]:
    """Existing ``*.pth`` files of the work dir and of the pointer's folder, newest first."""
    pointer = read_pointer(work_dir)
    folders = {osp.abspath(work_dir)}
    if pointer:
        folders.add(osp.dirname(osp.abspath(pointer)))
    files = {osp.join(folder, name) for folder in folders if osp.isdir(folder)
             for name in os.listdir(folder) if name.endswith('.pth')}
    files = [f for f in files if osp.isfile(f)]
    # the pointer's file first among files written in the same instant
    pointed = osp.abspath(pointer) if pointer else None
    return sorted(files, key=lambda f: (osp.getmtime(f), f == pointed), reverse=True)


def newest_intact_checkpoint(work_dir: str, load: Callable[[str], dict],
                             warn: Callable[[str], None]) -> Optional[tuple[str, dict]]:
    """(path, loaded checkpoint) of the newest checkpoint of ``work_dir`` that ``load`` reads,
    or None when there is none. ``warn`` receives one line per file passed over, and one when
    the result is not the file ``last_checkpoint`` names."""
    pointer = read_pointer(work_dir)
    problems: dict[str, str] = {}
    for path in resume_candidates(work_dir):
        try:
            checkpoint = load(path)
        except UnsafeCheckpointError:
            raise
        except Exception as err:  # truncated / corrupt file
            problems[path] = f'{type(err).__name__}: {err}'
            warn(f'resume: {path} cannot be read ({problems[path]}); trying an older one')
            continue
        if not isinstance(checkpoint, dict) or 'meta' not in checkpoint:
            problems[path] = 'not a training checkpoint (no meta)'
            warn(f'resume: {path} is {problems[path]}; trying an older one')
            continue
        if pointer is None:
            warn(f'resume: {osp.join(work_dir, LAST_CHECKPOINT)} is missing or empty; '
                 f'resuming from the newest intact checkpoint {path}')
        elif osp.abspath(pointer) != osp.abspath(path):
            why = (problems.get(osp.abspath(pointer)) or
                   ('a missing file' if not osp.isfile(pointer) else 'an older checkpoint'))
            warn(f'resume: last_checkpoint names {pointer} ({why}); resuming from the newest '
                 f'intact checkpoint {path} instead')
        return path, checkpoint
    return None


def _listing(keys: list[str], limit: int = 20) -> str:
    more = f', ... ({len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def check_checkpoint_fits(model: nn.Module, checkpoint: dict, filename: str) -> None:
    """Raise when ``checkpoint`` does not fit ``model``: any tensor shape differs, or a
    trainable parameter of the model is absent from the file (it would keep its random
    initialisation). Models that adapt checkpoints themselves (``adapts_checkpoints``, e.g.
    ``AVClassifier`` loading pre-training weights) run their own, equally strict, check."""
    if getattr(model, 'adapts_checkpoints', False):
        return
    import torch

    from mavil.models.pretrained import match_state_dict, unwrap_state

    def tensors(state: dict) -> dict:  # leave out extra states (e.g. a teacher's record)
        return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}

    state = tensors(unwrap_state(checkpoint))
    report = match_state_dict(state, tensors(model.state_dict()), source=filename,
                              what=type(model).__name__)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    absent = [k for k in report.missing if k in trainable]
    if absent:
        raise RuntimeError(
            f'checkpoint {filename} does not fit {type(model).__name__}: {len(absent)} of its '
            f'{len(trainable)} trainable parameters are not in the file (they would keep their '
            f'random initialisation; a checkpoint of another model?): {_listing(absent)}. '
            f'{len(report.matched)} tensors matched; keys only in the file: '
            f'{_listing(report.unexpected)}')
