"""Distributed weighted sampler for unbalanced fine-tuning sets (App. B.3, AS-2M / VGGSound).

Sample weight (App. B.3)::

    w_c = 1000 / (n_c + eps)          n_c = training clips labelled c, eps = 0.01
    w_i = sum over the labels c of clip i of w_c

Every epoch draws ``num_samples`` indices (200K on AS-2M, about 10% of the set) with
probability proportional to ``w_i``, with replacement by default. The draw depends only on
(seed, epoch), so every rank computes the SAME list; rank r takes positions r, r + W, r + 2W, ...
of it, so the ranks' shards are disjoint parts of one global draw (with replacement one clip can
still be drawn twice, on one rank or on two, exactly as in a single-process run).
``replacement=False`` draws distinct clips (Efraimidis-Spirakis weighted sampling).
"""
import math
from typing import Iterator, Optional, Sequence

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Sampler

from mavil.registry import DATA_SAMPLERS


def label_inverse_frequency_weights(labels: Sequence[Sequence[int]], *,
                                    scale: float = 1000.0, eps: float = 0.01) -> torch.Tensor:
    """Per-sample weights [N] (float64) from per-sample class indices (App. B.3 formula)."""
    owner = torch.tensor([i for i, sample in enumerate(labels) for _ in sample],
                         dtype=torch.long)
    flat = torch.tensor([int(c) for sample in labels for c in sample], dtype=torch.long)
    if (flat < 0).any():
        raise ValueError('class indices must be >= 0')
    class_weight = scale / (torch.bincount(flat).double() + eps)  # w_c
    weights = torch.zeros(len(labels), dtype=torch.float64)
    return weights.index_add_(0, owner, class_weight[flat])  # sum of w_c over a clip's labels


def dataset_labels(dataset) -> list[list[int]]:
    """Class indices of every sample, read from the annotations when the dataset offers them.

    Tried in order: ``get_cat_ids(i)`` (MMEngine's BaseDataset API), ``get_data_info(i)
    ['labels']``, and as the last resort loading each sample (``dataset[i]['data_samples']
    .labels``), which decodes media and is only sensible for small or synthetic datasets.
    """
    def as_list(value) -> list[int]:
        if isinstance(value, (list, tuple)):
            return [int(v) for v in value]
        return [int(v) for v in torch.as_tensor(value).flatten()]

    n = len(dataset)
    for getter in (lambda i: dataset.get_cat_ids(i),
                   lambda i: dataset.get_data_info(i)['labels']):
        try:
            first = getter(0) if n else None
        except (AttributeError, NotImplementedError, KeyError, TypeError):
            continue
        if first is not None and any(isinstance(v, str) for v in
                                     (first if isinstance(first, (list, tuple)) else [first])):
            raise TypeError('the dataset reports labels as names; the weighted sampler needs '
                            'class indices (map them through the label map)')
        return [as_list(getter(i)) for i in range(n)]
    print_log(f'{type(dataset).__name__} exposes no labels in its annotations; loading all '
              f'{n} samples to read them (fine for small datasets only)', logger='current',
              level=30)
    return [as_list(dataset[i]['data_samples'].labels) for i in range(n)]


@DATA_SAMPLERS.register_module()
class DistributedWeightedSampler(Sampler):
    """Weighted sampling with a fixed number of samples per epoch, sharded over ranks.

    Args:
        dataset: the training dataset (its labels give the weights, see
            :func:`dataset_labels`).
        num_samples: samples per epoch over all ranks (None: ``len(dataset)``); rounded up to
            a multiple of the world size.
        replacement: draw with replacement (the paper's setting).
        eps, scale: of the weight formula.
        seed: shared random seed (None: synchronised across ranks from rank 0's draw).
    """

    def __init__(self,
                 dataset,
                 *,
                 num_samples: Optional[int] = None,
                 replacement: bool = True,
                 eps: float = 0.01,
                 scale: float = 1000.0,
                 seed: Optional[int] = None) -> None:
        self.dataset = dataset
        self.rank, self.world_size = get_dist_info()
        self.weights = label_inverse_frequency_weights(dataset_labels(dataset), scale=scale,
                                                       eps=eps)
        if len(self.weights) == 0 or float(self.weights.sum()) <= 0:
            raise ValueError('weighted sampling needs a non-empty dataset with labelled samples')
        unlabelled = int((self.weights == 0).sum())
        if unlabelled:
            print_log(f'DistributedWeightedSampler: {unlabelled} samples have no label and '
                      'are never drawn', logger='current', level=30)
        total = len(dataset) if num_samples is None else int(num_samples)
        if total < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        self.num_samples = math.ceil(total / self.world_size)  # per rank
        self.total_size = self.num_samples * self.world_size
        self.replacement = replacement
        if not replacement and self.total_size > int((self.weights > 0).sum()):
            raise ValueError(f'cannot draw {self.total_size} distinct samples from '
                             f'{int((self.weights > 0).sum())} labelled ones without '
                             'replacement')
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0

    def global_indices(self, epoch: int) -> torch.Tensor:
        """The epoch's draw over all ranks [total_size] (identical on every rank)."""
        gen = torch.Generator().manual_seed(self.seed + epoch)
        if self.replacement:
            cdf = self.weights.cumsum(0)
            u = torch.rand(self.total_size, dtype=torch.float64, generator=gen) * cdf[-1]
            return torch.searchsorted(cdf, u, right=True).clamp_(max=len(cdf) - 1)
        # Efraimidis-Spirakis: the k smallest Exp(1) / w_i are a weighted draw without
        # replacement; zero weights get +inf keys and are never chosen
        keys = torch.empty(len(self.weights), dtype=torch.float64).exponential_(generator=gen)
        keys = keys / self.weights
        return keys.argsort()[:self.total_size]

    def __iter__(self) -> Iterator[int]:
        indices = self.global_indices(self.epoch)
        return iter(indices[self.rank:self.total_size:self.world_size].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
