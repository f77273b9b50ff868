"""Shared checks for the metrics."""
from typing import Sequence

import torch


def check_scores(scores: torch.Tensor, what: str = 'scores') -> torch.Tensor:
    """[N, C] finite float scores; an empty set is an error, not a NaN metric."""
    scores = torch.as_tensor(scores)
    if scores.dim() != 2:
        raise ValueError(f'{what} must be [N, C], got {list(scores.shape)}')
    if scores.shape[0] == 0:
        raise ValueError(f'empty evaluation set: no {what} to evaluate (check the dataset / '
                         'annotation file and the dataloader)')
    if not torch.isfinite(scores).all():
        raise ValueError(f'{what} contain NaN or inf')
    return scores.double()


def labels_to_multi_hot(labels: Sequence, num_classes: int) -> torch.Tensor:
    """Per-sample class indices -> [N, C] 0/1; out-of-range indices raise."""
    target = torch.zeros(len(labels), num_classes, dtype=torch.float64)
    for i, lab in enumerate(labels):
        lab = torch.as_tensor(lab).long().flatten()
        bad = lab[(lab < 0) | (lab >= num_classes)]
        if bad.numel():
            raise ValueError(f'sample {i} has labels {bad.tolist()} outside [0, {num_classes}) '
                             f'(the predictions have {num_classes} classes)')
        target[i, lab] = 1.0
    return target


def results_from_samples(data_samples: Sequence[dict], keys: Sequence[str]) -> list[dict]:
    """Pick ``keys`` from evaluator data samples (dicts), moving tensors to the CPU."""
    out = []
    for sample in data_samples:
        missing = [k for k in keys if k not in sample]
        if missing:
            raise KeyError(f'data sample misses {missing} (has {sorted(sample)}); does the '
                           'model\'s predict() set them?')
        out.append({k: (sample[k].detach().cpu() if torch.is_tensor(sample[k]) else sample[k])
                    for k in keys})
    return out
