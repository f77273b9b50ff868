"""Token masking shared by both encoders and all masking types (MAE convention: 1 = masked).

Every mode keeps exactly ``int(N * (1 - ratio))`` tokens per sample, so a batch stays
rectangular: audio N=512 at 80% keeps 102, video N=784 keeps 156 (App. B.2).

Modes::

    'random'      i.i.d. per-token masking (the paper's default).
    structured    Bernoulli trials on whole slots of grid axes, e.g. audio time-frequency
                  (time rows and frequency columns) or video space-time (whole frames and
                  spatial positions across time) (App. C.1, Table 12b). Slot groups are
                  masked with ratios in a fixed proportion (time : frequency/space = 1 : 2)
                  chosen so that their union covers ``ratio`` of the tokens (slot counts
                  rounded down; the few tokens still missing are masked at random).

Fine-tuning masking (App. B.3, after Audio-MAE) drops whole slots too, with one fixed ratio
per axis group: per group ``g`` ``keep_g = int(n_g * (1 - ratio))`` slots are kept (at least
one), so every sample keeps the same ``prod_g keep_g`` tokens: e.g. audio 64x8 -> 51x6 = 306
of 512 tokens, video 4x(14x14) -> 3x156 = 468 of 784 (:class:`FinetuneMasking`). Both kinds
draw their slots with one helper and read the axis groups from :data:`MASKING_TYPES`, so the
names mean the same in pre-training and fine-tuning.
"""
from dataclasses import dataclass
from math import prod
from typing import Callable, Optional, Sequence

import torch


@dataclass
class MaskInfo:
    """ids_keep [B, K] kept token indices (ascending noise order); ids_restore [B, N] inverse
    permutation used by decoders to unshuffle; mask [B, N] with 1 = masked, 0 = kept."""
    ids_keep: torch.Tensor
    ids_restore: torch.Tensor
    mask: torch.Tensor

    @property
    def num_kept(self) -> int:
        return self.ids_keep.shape[1]


@dataclass(frozen=True)
class StructuredMasking:
    """Axis groups of a grid masked slot-wise; ``weights`` set their relative ratios."""
    axis_groups: tuple[tuple[int, ...], ...]
    weights: tuple[float, ...]


# Named masking types per modality (Table 12b). Grids: audio (time, freq), video (time, h, w).
MASKING_TYPES: dict[str, Optional[StructuredMasking]] = {
    'random': None,
    'time_freq': StructuredMasking(axis_groups=((0, ), (1, )), weights=(1.0, 2.0)),
    'space_time': StructuredMasking(axis_groups=((0, ), (1, 2)), weights=(1.0, 2.0)),
}


def check_mask_ratio(ratio: float, num_tokens: int, what: str = 'mask_ratio') -> float:
    if not 0.0 < ratio < 1.0:
        raise ValueError(f'{what} must be in (0, 1), got {ratio}')
    if int(num_tokens * (1 - ratio)) < 1:
        raise ValueError(f'{what}={ratio} keeps no token of {num_tokens}')
    return float(ratio)


def num_kept(num_tokens: int, ratio: float) -> int:
    return int(num_tokens * (1 - ratio))


def group_ratios(ratio: float, weights: Sequence[float]) -> list[float]:
    """Per-group slot ratios r_g = w_g * s with 1 - prod(1 - r_g) = ratio (bisection on s)."""
    low, high = 0.0, 1.0 / max(weights)
    for _ in range(60):
        mid = (low + high) / 2
        covered = 1 - prod(1 - w * mid for w in weights)
        low, high = (mid, high) if covered < ratio else (low, mid)
    return [w * low for w in weights]


def check_grid(mode: str, grid_size: Sequence[int]) -> Optional[StructuredMasking]:
    """The masking type ``mode``, checked against a grid of ``len(grid_size)`` axes."""
    if mode not in MASKING_TYPES:
        raise ValueError(f'unknown masking type {mode!r}; known: {sorted(MASKING_TYPES)}')
    spec = MASKING_TYPES[mode]
    if spec is not None and max(a for g in spec.axis_groups for a in g) >= len(grid_size):
        raise ValueError(f'masking type {mode!r} needs a {len(grid_size) + 1}+-D grid, '
                         f'got grid {tuple(grid_size)}')
    return spec


def draw_slots(batch_size: int, grid_size: Sequence[int], axes: Sequence[int],
               num_drawn: Callable[[int], int], device, generator) -> torch.Tensor:
    """Draw ``num_drawn(num_slots)`` slots of the axis group ``axes`` per sample, uniformly.

    Returns:
        bool ``[B, *grid]`` with size 1 on the axes outside ``axes`` (broadcasts over them):
        True on the drawn slots.
    """
    slot_shape = [grid_size[a] for a in axes]
    num_slots = prod(slot_shape)
    noise = torch.rand(batch_size, num_slots, device=device, generator=generator)
    drawn = torch.zeros(batch_size, num_slots, dtype=torch.bool, device=device)
    drawn.scatter_(1, noise.argsort(dim=1)[:, :num_drawn(num_slots)], True)
    view = [batch_size] + [grid_size[a] if a in axes else 1 for a in range(len(grid_size))]
    return drawn.view(view)


def _structured_scores(batch_size: int, grid_size: Sequence[int], ratio: float,
                       spec: StructuredMasking, device, generator) -> torch.Tensor:
    """[B, N] scores: >= 1 where a masked slot covers the token, random in [0, 1) elsewhere."""
    masked = torch.zeros(batch_size, *grid_size, dtype=torch.bool, device=device)
    for axes, group_ratio in zip(spec.axis_groups, group_ratios(ratio, spec.weights)):
        # floor: the union then never exceeds the masking budget, so every chosen slot is
        # masked whole and only the shortfall is topped up with random tokens
        masked |= draw_slots(batch_size, grid_size, axes, lambda n: int(group_ratio * n),
                             device, generator)
    noise = torch.rand(batch_size, prod(grid_size), device=device, generator=generator)
    return masked.flatten(1).float() + noise


def sample_mask(batch_size: int,
                grid_size: Sequence[int],
                ratio: float,
                *,
                mode: str = 'random',
                device: torch.device | str = 'cpu',
                generator: Optional[torch.Generator] = None) -> MaskInfo:
    """Draw one mask per sample over a row-major token grid of ``prod(grid_size)`` tokens."""
    spec = check_grid(mode, grid_size)
    num_tokens = prod(grid_size)
    keep = num_kept(num_tokens, check_mask_ratio(ratio, num_tokens))
    if spec is None:
        scores = torch.rand(batch_size, num_tokens, device=device, generator=generator)
    else:
        scores = _structured_scores(batch_size, grid_size, ratio, spec, device, generator)
    ids_shuffle = scores.argsort(dim=1)  # lowest scores are kept
    ids_restore = ids_shuffle.argsort(dim=1)
    mask = torch.ones(batch_size, num_tokens, device=device)
    mask[:, :keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return MaskInfo(ids_keep=ids_shuffle[:, :keep], ids_restore=ids_restore, mask=mask)


def gather_tokens(x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """x [B, N, D], ids [B, K] -> [B, K, D]."""
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def slot_drop_mask(batch_size: int,
                   grid_size: Sequence[int],
                   axis_groups: Sequence[Sequence[int]],
                   ratios: Sequence[float],
                   *,
                   device: torch.device | str = 'cpu',
                   generator: Optional[torch.Generator] = None) -> MaskInfo:
    """Drop ``ratios[g]`` of the slots of each axis group ``axis_groups[g]`` of a row-major
    token grid (fine-tuning). Kept ids are in ascending (grid) order; ``mask`` [B, N] has
    1 = dropped."""
    if len(axis_groups) != len(ratios):
        raise ValueError(f'{len(axis_groups)} axis groups but {len(ratios)} ratios')
    grid_size = tuple(grid_size)
    kept = torch.ones(batch_size, *grid_size, dtype=torch.bool, device=device)
    for axes, ratio in zip(axis_groups, ratios):
        _check_ft_ratio(ratio)
        kept &= draw_slots(batch_size, grid_size, axes,
                           lambda n: max(1, int(n * (1 - ratio))), device, generator)
    kept = kept.flatten(1)  # [B, N]
    # stable sort puts kept tokens first, each part in grid order
    ids_shuffle = torch.sort((~kept).to(torch.uint8), dim=1, stable=True).indices
    num_kept_tokens = int(kept[0].sum())
    return MaskInfo(ids_keep=ids_shuffle[:, :num_kept_tokens],
                    ids_restore=ids_shuffle.argsort(dim=1), mask=(~kept).float())


def _check_ft_ratio(ratio: float) -> None:
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f'fine-tuning mask ratio must be in [0, 1), got {ratio}')


@dataclass(frozen=True)
class FinetuneMasking:
    """One modality's fine-tuning masking: ``mode`` in MASKING_TYPES and the per-slot ratio
    (for 'random': the token ratio). Tokens are removed before the encoder, like
    pre-training masking."""
    mode: str = 'random'
    ratio: float = 0.2

    def __post_init__(self) -> None:
        if self.mode not in MASKING_TYPES:
            raise ValueError(f'unknown fine-tuning masking mode {self.mode!r}; known: '
                             f'{sorted(MASKING_TYPES)}')
        _check_ft_ratio(self.ratio)

    def __call__(self, batch_size: int, grid_size: Sequence[int],
                 device: torch.device | str = 'cpu') -> Optional[MaskInfo]:
        """A mask for ``batch_size`` samples, or None when nothing is dropped."""
        if self.ratio == 0.0:
            return None
        spec = check_grid(self.mode, grid_size)
        if spec is None:
            return sample_mask(batch_size, grid_size, self.ratio, mode='random', device=device)
        return slot_drop_mask(batch_size, grid_size, spec.axis_groups,
                              [self.ratio] * len(spec.axis_groups), device=device)
