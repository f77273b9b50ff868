from .av_classifier import AVClassifier, labels_to_targets
from .av_retriever import AVRetriever
from .mavil import MAViL, mean_pool

__all__ = ['MAViL', 'mean_pool', 'AVClassifier', 'AVRetriever', 'labels_to_targets']
