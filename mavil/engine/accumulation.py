"""Gradient accumulation with exact global-batch contrast: the loader side and the switch.

``exact_contrast`` (top-level config key): None (default) = on when the optimizer step
accumulates several micro-batches (``total_batch_size`` > per-GPU batch x GPUs) and the model
has a contrastive loss; True / False force it. When on, the train loop receives the
micro-batches of one optimizer step together (:class:`MicroBatchLoader`) and the model runs
the two-pass step of :mod:`mavil.models.algorithms.exact_contrast`; one iteration is then one
optimizer step, as in a run on enough GPUs to need no accumulation.
"""
import math
from typing import Iterator, Optional

from mavil.structures import MicroBatches


class MicroBatchLoader:
    """Wraps a dataloader: yields :class:`MicroBatches` of ``count`` consecutive batches (the
    last group of an epoch may be shorter). Other attributes (``dataset``, ``sampler``,
    ``batch_size`` = the micro-batch size, ...) are the wrapped loader's."""

    def __init__(self, loader, count: int) -> None:
        if count < 1:
            raise ValueError(f'micro-batches per step must be >= 1, got {count}')
        self.loader = loader
        self.count = count

    def __iter__(self) -> Iterator[MicroBatches]:
        group = MicroBatches()
        for batch in self.loader:
            group.append(batch)
            if len(group) == self.count:
                yield group
                group = MicroBatches()
        if group:
            yield group

    def __len__(self) -> int:
        return math.ceil(len(self.loader) / self.count)

    def __getattr__(self, name: str):
        if name in ('loader', 'count'):  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)


def resolve_exact_contrast(setting: Optional[bool], accumulation: int, model) -> bool:
    """Whether to run exact contrast accumulation; raises on a setting that cannot hold.

    ``model`` is the bare model (not its DDP wrapper)."""
    if setting not in (None, True, False):
        raise ValueError(f'exact_contrast must be None (auto), True or False, got {setting!r}')
    has_contrast = bool(getattr(model, 'has_contrast', False))
    supported = bool(getattr(model, 'supports_micro_batches', False))
    if setting is None:
        return accumulation > 1 and has_contrast and supported
    if setting and not supported:
        raise ValueError(f'exact_contrast=True: {type(model).__name__} has no two-pass '
                         'training step (MAViL models do); set exact_contrast=None or False')
    if setting and not has_contrast:
        raise ValueError(f'exact_contrast=True but {type(model).__name__} has no contrastive '
                         'loss (inter_loss and intra_loss are None); nothing to make exact')
    return bool(setting) and accumulation > 1


def contrast_batch_note(per_gpu: int, world: int, accumulation: int, exact: bool) -> str:
    """How many clips the contrast sees per optimizer step, in words."""
    local = per_gpu * world
    total = local * accumulation
    if exact or accumulation == 1:
        how = (f'{accumulation} micro-batches of {per_gpu} x {world} processes, two-pass exact '
               'contrast' if accumulation > 1 else f'{per_gpu} per process x {world} processes')
        return f'contrastive losses see {total} clips per step ({how}; {total - 1} negatives ' \
               'per query)'
    return (f'gradient accumulation x{accumulation} with exact_contrast off: the contrastive '
            f'losses see only {local} clips per step ({per_gpu} per process x {world} '
            f'processes; {local - 1} negatives per query), not the {total} clips of the '
            'optimizer step; set exact_contrast=True (or None) for the whole batch')
