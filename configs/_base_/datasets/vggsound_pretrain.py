# VGGSound pre-training data (Sec. 4.1: 198K videos, 309 classes): the 'train' split of the
# official vggsound.csv, with VGGSound's normalisation statistics (Table 9) and the same
# sample as AudioSet pre-training (App. B.1; augmentation R only, Table 9 PT column).
#
# Expected layout (relative to the working directory; change `data_root` for another place):
#   data/vggsound/
#     vggsound.csv                       official, no header: YTID,start_seconds,label,split
#     videos/<YTID>_<start:06d>.mp4      the 10-second clip itself (already cut)
#
# vggsound.csv lists every clip, also those that can no longer be downloaded; missing or
# unreadable clips would be skipped during training and counted against SkippedSampleHook's
# max_skip_ratio. To train on exactly the clips you have, write a CSV annotation of them:
#   python tools/data/build_annotations.py data/vggsound/videos \
#       --labels data/vggsound/vggsound.csv --split train --out data/vggsound/train.csv
# and set ann_file='data/vggsound/train.csv', ann_format='csv', data_prefix=videos dir,
# filename_template=None, split=None below (the CSV names each file). Classes are then the
# labels found in that file; pass classes=[...] (all 309) to keep the official indices.
data_root = 'data/vggsound'
audio_mean, audio_std = -5.189, 3.260  # Table 9, VGGSound

train_pipeline = [
    # PyAV: ~1.5x the clips/s of decord here (benchmarks/data_throughput.py)
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(num_frames=8, fps=2.0)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128, frame_length=25.0, frame_shift=10.0),
    dict(type='AudioRandomRoll'),  # R
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=audio_mean, std=audio_std),
    dict(type='VideoRandomResizedCrop', size=224, scale=(0.2, 1.0)),
    dict(type='VideoRandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
# Inference on single files (mavil.apis: extract_features, reconstruction figures): one
# deterministic clip (test_mode), no roll, resize + centre crop.
test_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav',
         clip_sampler=dict(num_frames=8, fps=2.0, test_mode=True)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128, frame_length=25.0, frame_shift=10.0),
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=audio_mean, std=audio_std),
    dict(type='VideoResize', short_side=224),
    dict(type='VideoCenterCrop', size=224),
    dict(type='PackAVInputs'),
]

train_dataloader = dict(
    batch_size=8,  # per GPU
    num_workers=8,  # per GPU; benchmarks/data_throughput.py measures clips/s per worker
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),  # sets unreadable clips aside (counted)
    dataset=dict(
        type='AVDataset',
        ann_file=f'{data_root}/vggsound.csv',
        ann_format='vggsound',
        split='train',
        data_prefix=f'{data_root}/videos',
        filename_template='{ytid}_{start:06d}.mp4',
        pipeline=train_pipeline),
)
