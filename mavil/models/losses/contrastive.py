"""InfoNCE with cosine similarity (Eq. 2), optionally over the global batch of all ranks."""
from typing import NamedTuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from mavil.registry import MODELS


class ContrastOutput(NamedTuple):
    loss: torch.Tensor  # weighted loss (scalar)
    accuracy: torch.Tensor  # fraction of rows whose positive has the top logit (diagnostic)
    num_negatives: int = 0  # negatives per query: keys of the (global) batch minus the positive


def gather_with_grad(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All ranks' [B_r, D] rows concatenated (autograd flows back to every rank), and the
    offset of this rank's rows in the result. Ranks may hold different batch sizes (a skipped
    corrupt clip shrinks one rank's batch). Identity outside distributed runs."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x, 0
    from torch.distributed.nn.functional import all_gather
    sizes = torch.tensor([x.shape[0]], device=x.device)
    all_sizes = [torch.zeros_like(sizes) for _ in range(dist.get_world_size())]
    dist.all_gather(all_sizes, sizes)
    counts = [int(s) for s in all_sizes]
    padded = F.pad(x.contiguous(), (0, 0, 0, max(counts) - x.shape[0]))  # equal shapes
    parts = all_gather(padded)
    rows = torch.cat([part[:n] for part, n in zip(parts, counts)], dim=0)
    return rows, sum(counts[:dist.get_rank()])


def standardize(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Each feature (column) of ``x`` [N, D] to zero mean and unit variance over the N rows:
    a BatchNorm without affine parameters, with the batch's statistics (biased variance), as
    at the end of SimCLR's and MoCo v3's projection heads."""
    mean = x.mean(dim=0, keepdim=True)
    var = x.var(dim=0, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def info_nce(query: torch.Tensor, keys: torch.Tensor, offset: int,
             temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 2 for local query rows [B, D] against keys [B_all, D]; row i's positive is key
    ``offset + i``. Returns (mean loss, top-1 accuracy)."""
    logits = F.normalize(query, dim=-1) @ F.normalize(keys, dim=-1).t() / temperature
    labels = torch.arange(query.shape[0], device=query.device) + offset
    accuracy = (logits.argmax(dim=1) == labels).float().mean()
    return F.cross_entropy(logits, labels), accuracy


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """L_c(x, y), or the symmetric 1/2 [L_c(x, y) + L_c(y, x)] (Eq. 3, inter-modal).

    Args:
        temperature: tau (0.1 inter-modal, 1.0 intra-modal in the paper).
        loss_weight: alpha / beta of Eq. 4.
        symmetric: average both directions.
        gather_distributed: negatives from the global batch of all ranks (with gradient).
        batch_standardize: before the cosine, standardise each feature of each side over the
            (global) batch (:func:`standardize`). Off in the paper (Eq. 2 compares the mean-
            pooled encoder outputs directly). When all embeddings share one large component
            (pairwise cosine near 1, as a small encoder trained on reconstruction drifts to),
            Eq. 2's logits barely differ between clips and the loss sits at ln B;
            standardising removes that shared component. A small-scale setting
            (``configs/demo/``), not the paper's.
    """

    def __init__(self,
                 *,
                 temperature: float = 0.1,
                 loss_weight: float = 1.0,
                 symmetric: bool = True,
                 gather_distributed: bool = True,
                 batch_standardize: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'InfoNCE temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.symmetric = symmetric
        self.gather_distributed = gather_distributed
        self.batch_standardize = batch_standardize

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> ContrastOutput:
        if x.dim() != 2 or x.shape != y.shape:
            raise ValueError(f'InfoNCE needs paired embeddings [B, D] of equal shape, got '
                             f'{list(x.shape)} and {list(y.shape)}')
        dtype = torch.promote_types(x.dtype, torch.float32)  # bf16/fp16 -> fp32; fp64 stays
        x, y = x.to(dtype), y.to(dtype)
        if self.gather_distributed:
            x_all, offset = gather_with_grad(x)
            y_all, _ = gather_with_grad(y)
        else:
            x_all, y_all, offset = x, y, 0
        if y_all.shape[0] < 2:
            raise ValueError('contrastive loss needs a global batch of at least 2 samples (no '
                             'negatives otherwise); raise the batch size or disable contrast')
        if self.batch_standardize:  # global statistics; this rank's rows are a slice of them
            rows = slice(offset, offset + x.shape[0])
            x_all, y_all = standardize(x_all), standardize(y_all)
            x, y = x_all[rows], y_all[rows]
        loss, acc = info_nce(x, y_all, offset, self.temperature)
        if self.symmetric:
            loss_t, acc_t = info_nce(y, x_all, offset, self.temperature)
            loss, acc = (loss + loss_t) / 2, (acc + acc_t) / 2
        return ContrastOutput(self.loss_weight * loss, acc.detach(), y_all.shape[0] - 1)
