"""Shared by the exact-contrast tests and their 2-process worker: a tiny float64 MAViL, fixed
per-clip masks (so that a big batch and its micro-batches mask every clip alike), clip data."""
import copy
from pathlib import Path

import torch
from mmengine.config import Config
from torch import nn

import mavil.models  # noqa: F401  (registers the components)
from mavil.models.algorithms.mavil import StepMasks
from mavil.models.layers import MaskInfo
from mavil.registry import MODELS

TINY_STAGE1 = Path(__file__).resolve().parents[1] / 'fixtures' / 'configs' / 'tiny_stage1.py'
NUM_CLIPS = 8


class Float64Inputs(nn.Module):
    """Stands in for AVDataPreprocessor (which casts to float32) in float64 tests."""

    def forward(self, data: dict, training: bool = False) -> dict:
        return dict(inputs={k: v.double() for k, v in data['inputs'].items()},
                    data_samples=data.get('data_samples'))


def tiny_model_cfg() -> dict:
    return copy.deepcopy(Config.fromfile(str(TINY_STAGE1)).model)


def build_tiny(cfg: dict = None, seed: int = 0) -> nn.Module:
    """The tiny stage-1 MAViL in float64, train mode, deterministic weights."""
    torch.manual_seed(seed)
    model = MODELS.build(cfg if cfg is not None else tiny_model_cfg()).double().train()
    model.data_preprocessor = Float64Inputs()
    return model


def clips(num: int = NUM_CLIPS, seed: int = 1) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {'audio': torch.randn(num, 1, 64, 32, generator=gen),
            'video': torch.randn(num, 3, 4, 32, 32, generator=gen)}


def batch(data: dict[str, torch.Tensor], rows: slice) -> dict:
    """A data batch as the dataloader yields it."""
    return {'inputs': {k: v[rows] for k, v in data.items()}, 'data_samples': None}


def _rows(mask, rows: slice):
    return None if mask is None else MaskInfo(mask.ids_keep[rows], mask.ids_restore[rows],
                                              mask.mask[rows])


def fix_masks(model: nn.Module, num: int = NUM_CLIPS, start: int = 0, seed: int = 2) -> StepMasks:
    """Draw the masks of ``num`` clips once; ``model.sample_masks(b)`` then hands out the next
    b rows from ``start`` on (a big batch takes them all at once, micro-batches in turn)."""
    torch.manual_seed(seed)
    table = model.sample_masks(num, torch.device('cpu'))
    cursor = [start]

    def sample_masks(batch_size: int, device) -> StepMasks:
        rows = slice(cursor[0], cursor[0] + batch_size)
        cursor[0] += batch_size
        return StepMasks(*(_rows(m, rows) for m in (table.audio, table.video, table.audio_2,
                                                      table.video_2)))

    model.sample_masks = sample_masks
    return table
