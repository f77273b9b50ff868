"""Classification losses on soft targets [B, C] (multi-hot labels, possibly mixed by mixup).

Table 9: BCE for multi-label data or whenever mixup is on, CE otherwise. Each loss names the
activation that turns its logits into scores (``score_activation``), so predictions and the
loss always agree.
"""
import torch
import torch.nn.functional as F
from torch import nn

from mavil.registry import MODELS


def _check(logits: torch.Tensor, targets: torch.Tensor) -> None:
    if logits.dim() != 2 or logits.shape != targets.shape:
        raise ValueError(f'classification loss needs logits and targets [B, C] of equal shape, '
                         f'got {list(logits.shape)} and {list(targets.shape)}')


@MODELS.register_module()
class SoftBCELoss(nn.Module):
    """Binary cross-entropy with logits, averaged over samples and classes."""
    score_activation = 'sigmoid'

    def __init__(self, *, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        _check(logits, targets)
        return self.loss_weight * F.binary_cross_entropy_with_logits(logits.float(),
                                                                     targets.float())


@MODELS.register_module()
class SoftCrossEntropyLoss(nn.Module):
    """Softmax cross-entropy against a target distribution (rows are normalised to sum 1)."""
    score_activation = 'softmax'

    def __init__(self, *, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        _check(logits, targets)
        targets = targets.float()
        mass = targets.sum(dim=1, keepdim=True)
        if (mass <= 0).any():
            raise ValueError('cross-entropy needs at least one positive label per sample')
        loss = -(targets / mass * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()
        return self.loss_weight * loss
