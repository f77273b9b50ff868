"""Evaluation metrics (registered in ``mavil.registry.METRICS``)."""
from .metrics import Accuracy, MeanAveragePrecision, RetrievalRecall

__all__ = ['Accuracy', 'MeanAveragePrecision', 'RetrievalRecall']
