"""Each metric has a pure static ``calculate()`` (tensors in, numbers out) used by its
``compute_metrics``; MMEngine's ``BaseMetric`` gathers the per-sample results of all ranks
(dropping the distributed sampler's padding) before ``compute_metrics`` runs on rank 0."""
from .accuracy import Accuracy
from .average_precision import MeanAveragePrecision, binary_average_precision
from .retrieval import RetrievalRecall

__all__ = ['Accuracy', 'MeanAveragePrecision', 'binary_average_precision', 'RetrievalRecall']
