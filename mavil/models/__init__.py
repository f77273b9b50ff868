"""The user's vocabulary: encoders, fusion necks, decoder heads, targets, losses, algorithms."""
from . import (algorithms, backbones, heads, image_vit_init, losses, mixup, necks,  # noqa: F401
               targets)
from .data_preprocessor import AVDataPreprocessor

__all__ = ['AVDataPreprocessor']
