"""Per-clip annotations travelling with the inputs."""
from mmengine.structures import BaseDataElement

MODALITIES = ('audio', 'video')  # the input streams of a sample, in this order


class AVDataSample(BaseDataElement):
    """Metainfo: ``clip_id``, ``filename`` ...; data fields: ``labels`` (LongTensor of class
    indices), and model outputs such as ``audio_embedding`` / ``video_embedding``."""
