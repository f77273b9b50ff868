# VGGSound fine-tuning data (Sec. 4.1, App. B.3, Table 9): ~183K training / ~15K test clips,
# 309 classes, top-1 / top-5 accuracy; distributed weighted sampler, 200K clips per epoch.
#   data/vggsound/vggsound.csv          YTID,start_seconds,label,split (no header)
#   data/vggsound/videos/{YTID}_{start:06d}.mp4
# Audio: VGGSound statistics (mean -5.189, std 3.260), random roll (R) + noise at 20 dB SNR (N),
# SpecAugment 192/48. Video and multi-clip testing as AudioSet (see ft_audioset_20k.py).
ann_format = 'vggsound'
ann_file = 'data/vggsound/vggsound.csv'  # both splits; `split` selects rows
video_prefix = 'data/vggsound/videos'

audio_train_transforms = [
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioRandomRoll'),
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=-5.189, std=3.260),
    dict(type='AudioAddNoise', snr_db=20.0),
    dict(type='SpecAugment', time_mask=192, freq_mask=48),
]
audio_test_transforms = [
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=-5.189, std=3.260),
]
video_train_transforms = [
    dict(type='VideoRandomResizedCrop', size=224, scale=(0.08, 1.0)),
    dict(type='VideoRandomFlip', prob=0.5),
]
video_test_transforms = [
    dict(type='VideoResize', short_side=224),
    dict(type='VideoCenterCrop', size=224),
]
clip = dict(num_frames=8, fps=2.0)
test_clip = dict(num_frames=8, fps=2.0, test_mode=True, num_clips=1)
multi_clip = dict(num_frames=8, fps=2.0, test_mode=True, num_clips=10)


def _pipeline(modalities, clip_sampler, train):
    audio = audio_train_transforms if train else audio_test_transforms
    video = video_train_transforms if train else video_test_transforms
    return ([dict(type='LoadAudioVideo', backend='pyav', modalities=modalities,
                  clip_sampler=clip_sampler)] +
            (audio if 'audio' in modalities else []) + (video if 'video' in modalities else []) +
            [dict(type='PackAVInputs', modalities=modalities)])


train_pipeline = _pipeline(('audio', 'video'), clip, train=True)
val_pipeline = _pipeline(('audio', 'video'), test_clip, train=False)
test_pipeline = _pipeline(('audio', 'video'), multi_clip, train=False)
audio_train_pipeline = _pipeline(('audio', ), clip, train=True)
audio_test_pipeline = _pipeline(('audio', ), test_clip, train=False)  # val and test
video_train_pipeline = _pipeline(('video', ), clip, train=True)
video_val_pipeline = _pipeline(('video', ), test_clip, train=False)
video_test_pipeline = _pipeline(('video', ), multi_clip, train=False)

train_dataloader = dict(
    batch_size=8,  # per GPU: 256 = 32 GPUs x 8 (Table 9)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DistributedWeightedSampler', num_samples=200000),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(
        type='AVDataset',
        ann_file=ann_file,
        ann_format=ann_format,
        split='train',
        data_prefix=video_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(
        type='AVDataset',
        ann_file=ann_file,
        ann_format=ann_format,
        split='test',
        data_prefix=video_prefix,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = dict(type='Accuracy', topk=(1, 5))
