"""Mean average precision over classes (AudioSet, Table 6).

AP of one class is the area under its step-wise precision-recall curve, taken at every DISTINCT
score (tied scores enter together, so the order of tied samples never matters)::

    AP = sum_k (R_k - R_{k-1}) * P_k,   thresholds t_1 > t_2 > ... (the distinct scores)

with P_k / R_k the precision / recall of predicting "positive" for scores >= t_k; this is the
definition of scikit-learn's ``average_precision_score``. A class with no positive sample in the
evaluation set has no defined AP: it is left out of the mean and reported (a warning, and
``skipped`` in ``calculate``'s result), never turned into NaN or 0.
"""
from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mavil.registry import METRICS
from .utils import check_scores, labels_to_multi_hot, results_from_samples


def binary_average_precision(scores: torch.Tensor, target: torch.Tensor) -> float:
    """AP of one class: scores [N], binary target [N] with at least one positive."""
    num_pos = float(target.sum())
    if num_pos <= 0:
        raise ValueError('AP is undefined without positives')
    sorted_scores, order = scores.sort(descending=True, stable=True)
    hits = target[order]
    tp = hits.cumsum(0)
    seen = torch.arange(1, len(hits) + 1, dtype=tp.dtype)
    # the last position of each run of tied scores closes a threshold
    closes = torch.ones(len(hits), dtype=torch.bool)
    closes[:-1] = sorted_scores[1:] != sorted_scores[:-1]
    tp, seen = tp[closes], seen[closes]
    precision = tp / seen
    recall = tp / num_pos
    recall_steps = torch.diff(recall, prepend=recall.new_zeros(1))
    return float((recall_steps * precision).sum())


@METRICS.register_module()
class MeanAveragePrecision(BaseMetric):
    """mAP (percent) from ``pred_score`` [C] and ``labels`` (class indices) per sample.

    Args:
        collect_device, prefix, collect_dir: see ``mmengine.evaluator.BaseMetric``.
    """
    default_prefix: Optional[str] = None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(results_from_samples(data_samples, ('pred_score', 'labels')))

    @staticmethod
    def calculate(scores: torch.Tensor, target: torch.Tensor) -> dict:
        """scores [N, C], target [N, C] in {0, 1} ->
        ``{'mAP': percent over valid classes, 'AP': [C] percent (NaN where skipped),
        'skipped': indices of classes without positives}``."""
        scores = check_scores(scores)
        target = torch.as_tensor(target).double()
        if target.shape != scores.shape:
            raise ValueError(f'target {list(target.shape)} and scores {list(scores.shape)} '
                             'differ in shape')
        if not ((target == 0) | (target == 1)).all():
            raise ValueError('mAP needs binary targets (0 / 1)')
        per_class = torch.full((scores.shape[1], ), float('nan'), dtype=torch.float64)
        skipped = []
        for c in range(scores.shape[1]):
            if target[:, c].sum() == 0:
                skipped.append(c)
                continue
            per_class[c] = 100.0 * binary_average_precision(scores[:, c], target[:, c])
        if len(skipped) == scores.shape[1]:
            raise ValueError('no class has a positive sample in the evaluation set; mAP is '
                             'undefined')
        valid = ~torch.isnan(per_class)
        return {'mAP': float(per_class[valid].mean()), 'AP': per_class, 'skipped': skipped}

    def compute_metrics(self, results: list) -> dict:
        if not results:
            raise ValueError('empty evaluation set: MeanAveragePrecision got no samples')
        scores = torch.stack([r['pred_score'] for r in results])
        target = labels_to_multi_hot([r['labels'] for r in results], scores.shape[1])
        out = self.calculate(scores, target)
        if out['skipped']:
            classes = (self.dataset_meta or {}).get('classes')
            names = [classes[c] if classes and c < len(classes) else str(c)
                     for c in out['skipped']]
            shown = ', '.join(names[:10]) + (' ...' if len(names) > 10 else '')
            print_log(f'mAP: {len(names)} of {scores.shape[1]} classes have no positive sample '
                      f'in the evaluation set and are left out of the mean: {shown}',
                      logger='current', level=30)
        return {'mAP': out['mAP']}
