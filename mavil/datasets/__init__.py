from .synthetic import SyntheticAVDataset

__all__ = ['SyntheticAVDataset']
