"""Fine-tuning masking (App. B.3, after Audio-MAE): drop whole slots of grid axes while training.

Audio drops 20% of the time rows and 20% of the frequency columns; video 20% of the frames
(time slots) and 20% of the spatial positions (each across all time). Per axis group ``g``
``keep_g = int(n_g * (1 - ratio))`` slots are kept (at least one), so every sample keeps the
same ``prod_g keep_g`` tokens and a batch stays rectangular: e.g. audio 64x8 -> 51x6 = 306 of
512 tokens, video 4x(14x14) -> 3x156 = 468 of 784. The tokens are removed before the encoder,
like pre-training masking (MAE convention, 1 = removed). Mode 'random' drops tokens i.i.d.

The axis groups come from the shared :data:`mavil.models.layers.MASKING_TYPES` table, so the
names mean the same in pre-training and fine-tuning.
"""
from dataclasses import dataclass
from math import prod
from typing import Optional, Sequence

import torch

from ..layers import MASKING_TYPES, MaskInfo, sample_mask


def slot_drop_mask(batch_size: int,
                   grid_size: Sequence[int],
                   axis_groups: Sequence[Sequence[int]],
                   ratios: Sequence[float],
                   *,
                   device: torch.device | str = 'cpu',
                   generator: Optional[torch.Generator] = None) -> MaskInfo:
    """Drop ``ratios[g]`` of the slots of each axis group ``axis_groups[g]`` of a row-major
    token grid. Kept ids are in ascending (grid) order; ``mask`` [B, N] has 1 = dropped."""
    if len(axis_groups) != len(ratios):
        raise ValueError(f'{len(axis_groups)} axis groups but {len(ratios)} ratios')
    grid_size = tuple(grid_size)
    kept = torch.ones(batch_size, *grid_size, dtype=torch.bool, device=device)
    for axes, ratio in zip(axis_groups, ratios):
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f'fine-tuning mask ratio must be in [0, 1), got {ratio}')
        slot_shape = [grid_size[a] for a in axes]
        num_slots = prod(slot_shape)
        keep = max(1, int(num_slots * (1 - ratio)))
        noise = torch.rand(batch_size, num_slots, device=device, generator=generator)
        slot_kept = torch.zeros(batch_size, num_slots, dtype=torch.bool, device=device)
        slot_kept.scatter_(1, noise.argsort(dim=1)[:, :keep], True)
        view = [batch_size] + [grid_size[a] if a in axes else 1 for a in range(len(grid_size))]
        kept &= slot_kept.view(view)
    kept = kept.flatten(1)  # [B, N]
    # stable sort puts kept tokens first, each part in grid order
    ids_shuffle = torch.sort((~kept).to(torch.uint8), dim=1, stable=True).indices
    num_kept = int(kept[0].sum())
    return MaskInfo(ids_keep=ids_shuffle[:, :num_kept], ids_restore=ids_shuffle.argsort(dim=1),
                    mask=(~kept).float())


@dataclass(frozen=True)
class FinetuneMasking:
    """One modality's fine-tuning masking: ``mode`` in MASKING_TYPES and the per-slot ratio
    (for 'random': the token ratio)."""
    mode: str = 'random'
    ratio: float = 0.2

    def __post_init__(self) -> None:
        if self.mode not in MASKING_TYPES:
            raise ValueError(f'unknown fine-tuning masking mode {self.mode!r}; known: '
                             f'{sorted(MASKING_TYPES)}')
        if not 0.0 <= self.ratio < 1.0:
            raise ValueError(f'fine-tuning mask ratio must be in [0, 1), got {self.ratio}')

    def __call__(self, batch_size: int, grid_size: Sequence[int],
                 device: torch.device | str = 'cpu') -> Optional[MaskInfo]:
        """A mask for ``batch_size`` samples, or None when nothing is dropped."""
        if self.ratio == 0.0:
            return None
        spec = MASKING_TYPES[self.mode]
        if spec is None:
            return sample_mask(batch_size, grid_size, self.ratio, mode='random', device=device)
        if max(a for group in spec.axis_groups for a in group) >= len(grid_size):
            raise ValueError(f'masking mode {self.mode!r} needs a {len(grid_size) + 1}+-D grid, '
                             f'got grid {tuple(grid_size)}')
        return slot_drop_mask(batch_size, grid_size, spec.axis_groups,
                              [self.ratio] * len(spec.axis_groups), device=device)
