"""Data samplers (registered in ``mavil.registry.DATA_SAMPLERS``). Self-contained: importing
this package registers them (``mavil.datasets`` imports it)."""
from .weighted_sampler import (DistributedWeightedSampler, dataset_labels,
                               label_inverse_frequency_weights)

__all__ = ['DistributedWeightedSampler', 'dataset_labels', 'label_inverse_frequency_weights']
