"""Figures of what a model does: MAE-style reconstructions (the paper's Fig. 3)."""
from .reconstruction import (ModalityReconstruction, as_batch, check_raw_targets,
                             denormalize_patches, display_arrays, plot_reconstruction,
                             reconstruct, visualize_reconstruction)

__all__ = [
    'ModalityReconstruction', 'as_batch', 'check_raw_targets', 'denormalize_patches',
    'display_arrays', 'plot_reconstruction', 'reconstruct', 'visualize_reconstruction'
]
