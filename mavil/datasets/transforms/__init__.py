"""Results-dict transforms, registered in ``mavil.registry.TRANSFORMS``.

Pre-training pipeline (App. B.1 / Table 9)::

    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(num_frames=8, fps=2)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioRandomRoll'),
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=-4.268, std=4.569),
    dict(type='VideoRandomResizedCrop', size=224, scale=(0.2, 1.0)),
    dict(type='VideoRandomFlip', prob=0.5),
    dict(type='PackAVInputs'),

Test: ``LoadAudioVideo(clip_sampler=dict(..., test_mode=True, num_clips=N))``, no roll,
``VideoResize(short_side=224)`` + ``VideoCenterCrop(size=224)``.
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
