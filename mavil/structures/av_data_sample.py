"""Per-clip annotations travelling with the inputs."""
from mmengine.structures import BaseDataElement

MODALITIES = ('audio', 'video')  # the input streams of a sample, in this order
# Key of the marker a dataset returns instead of an unreadable clip, and of the list of those
# markers in a collated batch (set aside, counted by SkippedSampleHook).
SKIPPED_KEY = 'skipped'


class AVDataSample(BaseDataElement):
    """Metainfo: ``clip_id``, ``filename`` ...; data fields: ``labels`` (LongTensor of class
    indices), and model outputs such as ``audio_embedding`` / ``video_embedding``."""
