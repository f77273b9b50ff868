"""The user's vocabulary: encoders, fusion necks, decoder heads, targets, losses, algorithms."""
from . import algorithms, backbones, heads, losses, mixup, necks, pretrained, targets  # noqa: F401
from .data_preprocessor import AVDataPreprocessor

__all__ = ['AVDataPreprocessor']
