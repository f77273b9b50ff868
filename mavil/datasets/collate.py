"""Collate that sets aside samples the dataset marked as skipped (unreadable media)."""
from mmengine.dataset import pseudo_collate

from mavil.registry import FUNCTIONS
from mavil.structures import SKIPPED_KEY


@FUNCTIONS.register_module()
def av_collate(batch: list[dict]) -> dict:
    """``pseudo_collate`` of the good samples, plus ``skipped``: the markers of the others."""
    good = [s for s in batch if SKIPPED_KEY not in s]
    skipped = [s[SKIPPED_KEY] for s in batch if SKIPPED_KEY in s]
    collated = pseudo_collate(good) if good else dict(inputs={}, data_samples=[])
    collated[SKIPPED_KEY] = skipped
    return collated
