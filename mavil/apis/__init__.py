"""Entry points for scripts and notebooks: load a trained model and use it."""
from .inference import init_model, load_config, load_weights
from .pipeline import ClipLoader, pipeline_for, test_pipeline_cfg

__all__ = ['init_model', 'load_config', 'load_weights', 'ClipLoader', 'pipeline_for',
           'test_pipeline_cfg']
