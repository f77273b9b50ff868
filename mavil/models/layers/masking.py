"""Token masking shared by both encoders and all masking types (MAE convention: 1 = masked).

Every mode keeps exactly ``int(N * (1 - ratio))`` tokens per sample, so a batch stays
rectangular: audio N=512 at 80% keeps 102, video N=784 keeps 156 (App. B.2).

Modes:
    'random'      i.i.d. per-token masking (the paper's default).
    structured    Bernoulli trials on whole slots of grid axes, e.g. audio time-frequency
                  (time rows and frequency columns) or video space-time (whole frames and
                  spatial positions across time) (App. C.1, Table 12b). Slot groups are
                  masked with ratios in a fixed proportion (time : frequency/space = 1 : 2)
                  chosen so that their union covers ``ratio`` of the tokens (slot counts
                  rounded down; the few tokens still missing are masked at random).
"""
from dataclasses import dataclass
from math import prod
from typing import Optional, Sequence

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


def _structured_scores(batch_size: int, grid_size: Sequence[int], ratio: float,
                       spec: StructuredMasking, device, generator) -> torch.Tensor:
    """[B, N] scores: >= 1 where a masked slot covers the token, random in [0, 1) elsewhere."""
    masked = torch.zeros(batch_size, *grid_size, dtype=torch.bool, device=device)
    for axes, group_ratio in zip(spec.axis_groups, group_ratios(ratio, spec.weights)):
        slot_shape = [grid_size[a] for a in axes]
        num_slots = prod(slot_shape)
        # floor: the union then never exceeds the masking budget, so every chosen slot is
        # masked whole and only the shortfall is topped up with random tokens
        num_masked = int(group_ratio * num_slots)
        noise = torch.rand(batch_size, num_slots, device=device, generator=generator)
        slot_masked = torch.zeros(batch_size, num_slots, dtype=torch.bool, device=device)
        slot_masked.scatter_(1, noise.argsort(dim=1)[:, :num_masked], True)
        # broadcast [B, *slot_shape] over the other axes of the grid
        view = [batch_size] + [grid_size[a] if a in axes else 1 for a in range(len(grid_size))]
        masked |= slot_masked.view(view)
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
    if mode not in MASKING_TYPES:
        raise ValueError(f'unknown masking type {mode!r}; known: {sorted(MASKING_TYPES)}')
    num_tokens = prod(grid_size)
    keep = num_kept(num_tokens, check_mask_ratio(ratio, num_tokens))
    spec = MASKING_TYPES[mode]
    if spec is None:
        scores = torch.rand(batch_size, num_tokens, device=device, generator=generator)
    else:
        if max(a for group in spec.axis_groups for a in group) >= len(grid_size):
            raise ValueError(f'masking type {mode!r} needs a {len(grid_size) + 1}+-D grid, '
                             f'got grid {tuple(grid_size)}')
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
