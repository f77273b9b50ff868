"""Entry points for scripts and notebooks: load a trained model and use it."""
from .features import Features, embed_batch, extract_features, resolve_sources
from .inference import class_names, inference_classifier, init_model, load_config, load_weights
from .pipeline import ClipLoader, pipeline_for, test_pipeline_cfg

__all__ = [
    'Features', 'embed_batch', 'extract_features', 'resolve_sources', 'class_names',
    'inference_classifier', 'init_model', 'load_config', 'load_weights', 'ClipLoader',
    'pipeline_for', 'test_pipeline_cfg'
]
