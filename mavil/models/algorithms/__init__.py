from .mavil import MAViL, mean_pool

__all__ = ['MAViL', 'mean_pool']
from .av_classifier import AVClassifier, labels_to_targets  # noqa: E402
from .av_retriever import AVRetriever  # noqa: E402

__all__ += ['AVClassifier', 'AVRetriever', 'labels_to_targets']
