from .av_data_sample import MODALITIES, AVDataSample

__all__ = ['MODALITIES', 'AVDataSample']
