"""Top-k accuracy (VGGSound, ESC-50, Speech Commands; Tables 6-7).

Tie convention (conservative): the rank of the true class is the number of classes whose score
is >= its score (itself included), so a tie with a wrong class counts against the prediction.
Constant (collapsed) scores thus give 0% top-1 rather than a lucky tie-break.
"""
from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mavil.registry import METRICS
from .utils import check_scores, results_from_samples


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Top-k accuracy (percent) from ``pred_score`` [C] and single-class ``labels``.

    Args:
        topk: the k values; a k larger than the number of classes is skipped (reported by
            ``calculate``) rather than reported as a trivial 100%.
        collect_device, prefix, collect_dir: see ``mmengine.evaluator.BaseMetric``.
    """
    default_prefix: Optional[str] = None

    def __init__(self, topk: Sequence[int] = (1, 5), **kwargs) -> None:
        super().__init__(**kwargs)
        self.topk = tuple(int(k) for k in topk)
        if not self.topk or min(self.topk) < 1:
            raise ValueError(f'topk must be positive integers, got {topk}')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(results_from_samples(data_samples, ('pred_score', 'labels')))

    @staticmethod
    def ranks(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """1-based rank of each sample's true class (ties counted against it)."""
        scores = check_scores(scores)
        labels = torch.as_tensor(labels).long()
        if labels.shape != (scores.shape[0], ):
            raise ValueError(f'labels must be [N] = [{scores.shape[0]}], got '
                             f'{list(labels.shape)}')
        if ((labels < 0) | (labels >= scores.shape[1])).any():
            bad = labels[(labels < 0) | (labels >= scores.shape[1])].unique().tolist()
            raise ValueError(f'labels {bad} outside [0, {scores.shape[1]})')
        true = scores.gather(1, labels[:, None])
        return (scores >= true).sum(dim=1)

    @staticmethod
    def calculate(scores: torch.Tensor, labels: torch.Tensor,
                  topk: Sequence[int] = (1, 5)) -> dict:
        """scores [N, C], labels [N] -> ``{'top1': percent, ...}`` for each k <= C."""
        ranks = Accuracy.ranks(scores, labels)
        num_classes = scores.shape[1]
        return {f'top{k}': 100.0 * float((ranks <= k).double().mean())
                for k in topk if k <= num_classes}

    def compute_metrics(self, results: list) -> dict:
        if not results:
            raise ValueError('empty evaluation set: Accuracy got no samples')
        labels = []
        for i, r in enumerate(results):
            lab = torch.as_tensor(r['labels']).flatten()
            if lab.numel() != 1:
                raise ValueError(f'Accuracy needs exactly one label per sample; sample {i} has '
                                 f'{lab.tolist()} (use MeanAveragePrecision for multi-label '
                                 'data)')
            labels.append(lab[0])
        scores = torch.stack([r['pred_score'] for r in results])
        return self.calculate(scores, torch.stack(labels), self.topk)
