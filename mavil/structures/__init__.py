from .av_data_sample import MODALITIES, SKIPPED_KEY, AVDataSample

__all__ = ['MODALITIES', 'SKIPPED_KEY', 'AVDataSample']
