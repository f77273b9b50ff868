"""What travels with the data: the modality names, the skipped-clip marker key, the per-clip
sample, and the micro-batches of one accumulated step."""
from mmengine.structures import BaseDataElement

MODALITIES = ('audio', 'video')  # the input streams of a sample, in this order
# Key of the marker a dataset returns instead of an unreadable clip, and of the list of those
# markers in a collated batch (set aside, counted by SkippedSampleHook).
SKIPPED_KEY = 'skipped'


class AVDataSample(BaseDataElement):
    """Metainfo: ``clip_id``, ``filename`` ...; data fields: ``labels`` (LongTensor of class
    indices), and model outputs such as ``audio_embedding`` / ``video_embedding``."""


class MicroBatches(list):
    """A list of data batches (each as a dataloader yields it) that make ONE optimizer step.

    The train loop hands it to ``model.train_step`` in place of a single batch when exact
    contrast accumulation is on (``mavil.engine.MicroBatchLoader``), so that the model sees
    the whole accumulated batch at once and every micro-batch is loaded exactly once.
    """

    def __repr__(self) -> str:
        return f'MicroBatches({len(self)} batches)'
