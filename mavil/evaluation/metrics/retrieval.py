"""Cross-modal retrieval: recall@K and median rank (Table 8: audio-to-video R@1).

Query ``i`` (an audio track) must retrieve item ``i`` (its own video) among all items of the
test set, ranked by cosine similarity of the uni-modal embeddings. Both directions are
reported: ``a2v`` (audio queries, video gallery) and ``v2a``.

Tie convention (conservative): the rank of the true item is the number of items whose
similarity is >= its similarity (itself included), so items tied with the true one are ranked
before it. Collapsed (constant) embeddings thus rank every true item last (R@1 = 0 for
N > 1) instead of scoring a perfect tie-break. ``MedR`` is the median of these 1-based ranks
(for an even count, the mean of the two middle ranks, like ``numpy.median``).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mavil.registry import METRICS
from .utils import check_scores, results_from_samples

DIRECTIONS = ('a2v', 'v2a')


@METRICS.register_module()
class RetrievalRecall(BaseMetric):
    """R@K (percent), median and mean rank from ``audio_embedding`` / ``video_embedding``.

    Args:
        ks: the K of R@K.
        directions: any of 'a2v' (audio queries) and 'v2a'.
        collect_device, prefix, collect_dir: see ``mmengine.evaluator.BaseMetric``.
    """
    default_prefix: Optional[str] = None

    def __init__(self, ks: Sequence[int] = (1, 5, 10),
                 directions: Sequence[str] = DIRECTIONS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ks = tuple(int(k) for k in ks)
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f'ks must be positive integers, got {ks}')
        unknown = set(directions) - set(DIRECTIONS)
        if unknown or not directions:
            raise ValueError(f'directions must be a non-empty subset of {DIRECTIONS}')
        self.directions = tuple(directions)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(results_from_samples(data_samples,
                                                 ('audio_embedding', 'video_embedding')))

    @staticmethod
    def ranks(similarity: torch.Tensor) -> torch.Tensor:
        """[N, N] similarities (row = query; the true item of query i is column i) ->
        1-based ranks [N], ties counted against the query."""
        sim = check_scores(similarity, 'similarities')
        if sim.shape[0] != sim.shape[1]:
            raise ValueError(f'paired retrieval needs a square similarity matrix, got '
                             f'{list(sim.shape)}')
        true = sim.diagonal()[:, None]
        return (sim >= true).sum(dim=1)

    @staticmethod
    def calculate(similarity: torch.Tensor, ks: Sequence[int] = (1, 5, 10)) -> dict:
        """One direction: ``{'R@1': percent, ..., 'MedR': float, 'MeanR': float}``."""
        ranks = RetrievalRecall.ranks(similarity).double()
        out = {f'R@{k}': 100.0 * float((ranks <= k).double().mean()) for k in ks}
        out['MedR'] = float(ranks.quantile(0.5))  # mean of the middle two for even N
        out['MeanR'] = float(ranks.mean())
        return out

    @staticmethod
    def similarity(audio: torch.Tensor, video: torch.Tensor) -> torch.Tensor:
        """Cosine similarities [N_audio, N_video] of embeddings [N, D]."""
        return F.normalize(audio.double(), dim=-1) @ F.normalize(video.double(), dim=-1).t()

    def compute_metrics(self, results: list) -> dict:
        if not results:
            raise ValueError('empty evaluation set: RetrievalRecall got no samples')
        audio = torch.stack([r['audio_embedding'] for r in results])
        video = torch.stack([r['video_embedding'] for r in results])
        sim = self.similarity(audio, video)
        metrics = {}
        for direction in self.directions:
            matrix = sim if direction == 'a2v' else sim.t()
            for name, value in self.calculate(matrix, self.ks).items():
                metrics[f'{direction}_{name}'] = value
        return metrics
