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

from mmengine.logging import MMLogger
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


def target_width_mismatches(model: nn.Module, state: dict, model_state: dict) -> list[str]:
    """Keys under the model's ``target_width_keys`` whose shapes differ from the file's."""
    prefixes = tuple(getattr(model, 'target_width_keys', ()))
    return [k for k, v in state.items() if k.startswith(prefixes) and k in model_state
            and tuple(v.shape) != tuple(model_state[k].shape)] if prefixes else []


def drop_from_checkpoint(checkpoint: dict, keys: list[str]) -> None:
    """Remove ``keys`` (and their DDP ``module.`` forms) from the checkpoint's weights."""
    weights = checkpoint.get('state_dict', checkpoint.get('model', checkpoint))
    for key in keys:
        weights.pop(key, None)
        weights.pop(f'module.{key}', None)


def _listing(keys: list[str], limit: int = 20) -> str:
    more = f', ... ({len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def check_checkpoint_fits(model: nn.Module, checkpoint: dict, filename: str, *,
                          resuming: bool = False) -> None:
    """Raise when ``checkpoint`` does not fit ``model``: any tensor shape differs, or a
    trainable parameter of the model is absent from the file (it would keep its random
    initialisation). Models that adapt checkpoints themselves (``adapts_checkpoints``, e.g.
    ``AVClassifier`` loading pre-training weights) run their own, equally strict, check.
    Outside resuming, the weights a model declares as following its targets
    (``target_width_keys``, e.g. decoder heads of a raw-target checkpoint loaded into a
    teacher-target retriever) are dropped from ``checkpoint`` when only their shape differs."""
    if getattr(model, 'adapts_checkpoints', False):
        return
    import torch

    from mavil.models.pretrained import match_state_dict, unwrap_state

    def tensors(state: dict) -> dict:  # leave out extra states (e.g. a teacher's record)
        return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}

    state = tensors(unwrap_state(checkpoint))
    model_state = tensors(model.state_dict())
    reinit = [] if resuming else target_width_mismatches(model, state, model_state)
    if reinit:
        drop_from_checkpoint(checkpoint, reinit)
        state = {k: v for k, v in state.items() if k not in reinit}
        MMLogger.get_current_instance().warning(
            f'{filename}: {_listing(reinit)} keep their initialisation: their shape follows the '
            f'targets, which differ from the checkpoint\'s (e.g. raw patches vs a teacher)')
    report = match_state_dict(state, model_state, source=filename, what=type(model).__name__)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    absent = [k for k in report.missing if k in trainable and k not in reinit]
    if absent:
        raise RuntimeError(
            f'checkpoint {filename} does not fit {type(model).__name__}: {len(absent)} of its '
            f'{len(trainable)} trainable parameters are not in the file (they would keep their '
            f'random initialisation; a checkpoint of another model?): {_listing(absent)}. '
            f'{len(report.matched)} tensors matched; keys only in the file: '
            f'{_listing(report.unexpected)}')


def check_complete_load(model: nn.Module, filename: str) -> None:
    """After a load for evaluation: raise when trainable parameters kept their random
    initialisation (a model adapting checkpoints, e.g. ``AVClassifier`` given a pre-training
    checkpoint, reports them in ``last_load_report``; other models are checked by
    :func:`check_checkpoint_fits`)."""
    from mavil.models.pretrained import summarize_keys
    report = getattr(model, 'last_load_report', None)
    if report is None:
        return
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    absent = [k for k in report.missing if k in trainable]
    if absent:
        raise RuntimeError(
            f'checkpoint {filename} lacks {len(absent)} trainable weights of '
            f'{type(model).__name__} (they would be evaluated with their random '
            f'initialisation; a pre-training checkpoint with a fine-tuning config?): '
            f'{summarize_keys(absent)}. Evaluate a checkpoint of this config, or pass '
            '--allow-partial to evaluate them random knowingly.')
