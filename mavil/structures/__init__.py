from .av_data_sample import MODALITIES, SKIPPED_KEY, AVDataSample
from .micro_batches import MicroBatches

__all__ = ['MODALITIES', 'SKIPPED_KEY', 'AVDataSample', 'MicroBatches']
