from .av_classifier import AVClassifier, labels_to_targets
from .av_retriever import AVRetriever
from .mavil import MAViL

__all__ = ['MAViL', 'AVClassifier', 'AVRetriever', 'labels_to_targets']
