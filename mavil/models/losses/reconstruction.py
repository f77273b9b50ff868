"""Masked reconstruction loss (Eq. 1 / Eq. 5)."""
import torch
import torch.nn.functional as F
from torch import nn

from mavil.registry import MODELS


@MODELS.register_module()
class MaskedMSELoss(nn.Module):
    """Mean over masked tokens of the per-token mean squared error.

    pred, target [B, N, P]; mask [B, N] with 1 = masked. Visible tokens do not count.
    """

    def __init__(self, *, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        if pred.shape != target.shape:
            raise ValueError(f'prediction {list(pred.shape)} and target {list(target.shape)} '
                             'differ: decoder out_dim must equal the target width')
        if mask.shape != pred.shape[:2]:
            raise ValueError(f'mask {list(mask.shape)} must be [B, N] = {list(pred.shape[:2])} '
                             'for predictions of shape [B, N, P]')
        dtype = torch.promote_types(pred.dtype, torch.float32)  # bf16 -> fp32; fp64 stays
        # one kernel each way, the same values as (pred - target).pow(2)
        per_token = F.mse_loss(pred.to(dtype), target.to(dtype),
                               reduction='none').mean(dim=-1)  # [B, N]
        return self.loss_weight * (per_token * mask).sum() / mask.sum().clamp(min=1)
