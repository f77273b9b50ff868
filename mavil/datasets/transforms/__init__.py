"""Results-dict transforms, registered in ``mavil.registry.TRANSFORMS``.

The pre-training pipelines (App. B.1 / Table 9) are defined once, in
``configs/_base_/datasets/pretrain_pipelines.py``. Training: ``LoadAudioVideo`` (8 frames at
2 fps) -> ``AudioResample`` (16 kHz) -> ``KaldiFbank`` (128 bins) -> ``AudioRandomRoll`` ->
``AudioPadCrop`` (1024 frames) -> ``AudioNormalize`` -> ``VideoRandomResizedCrop`` (224) ->
``VideoRandomFlip`` -> ``PackAVInputs``. Test: ``LoadAudioVideo(clip_sampler=dict(...,
test_mode=True))``, no roll, ``VideoResize`` + ``VideoCenterCrop`` instead of the random crop
and flip.
"""
from .audio import (AUDIOSET_MEAN, AUDIOSET_STD, AudioAddNoise, AudioNormalize, AudioPadCrop,
                    AudioRandomRoll, AudioResample, KaldiFbank, SpecAugment, fbank_frames)
from .base import BaseTransform
from .formatting import PackAVInputs
from .loading import LoadAudioVideo
from .mixing import WaveformMixup
from .video import (ClipSampler, VideoCenterCrop, VideoRandomFlip, VideoRandomResizedCrop,
                    VideoResize, resize_video)
from .video_augment import VideoRandAugment, VideoRandomErasing

__all__ = [
    'BaseTransform', 'LoadAudioVideo', 'AudioResample', 'KaldiFbank', 'AudioPadCrop',
    'AudioNormalize', 'AudioRandomRoll', 'AudioAddNoise', 'SpecAugment', 'fbank_frames',
    'AUDIOSET_MEAN', 'AUDIOSET_STD', 'ClipSampler', 'VideoRandomResizedCrop', 'VideoRandomFlip',
    'VideoResize', 'VideoCenterCrop', 'resize_video', 'VideoRandAugment', 'VideoRandomErasing', 'WaveformMixup',
    'PackAVInputs'
]
