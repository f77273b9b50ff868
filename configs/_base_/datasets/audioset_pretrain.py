# AudioSet-2M pre-training data (Sec. 4.1, App. B.1, Table 9 "AS-2M PT"): the unbalanced and
# balanced training segments, concatenated. Labels are read (for the record) but not used by
# self-supervised pre-training.
#
# Expected layout (relative to the working directory; change `data_root` for another place):
#   data/audioset/
#     annotations/
#       class_labels_indices.csv         official: index,mid,display_name (527 classes)
#       unbalanced_train_segments.csv    AudioSet CSV format: '#' comment lines, then
#       balanced_train_segments.csv        YTID, start_seconds, end_seconds, "MID,MID,..."
#     videos/
#       unbalanced_train/<YTID>.mp4      the 10-second segment itself (already cut), video and
#       balanced_train/<YTID>.mp4          audio; other names: change `filename_template`
#
# The official CSVs (research.google.com/audioset/download.html) list every segment, also the
# many that can no longer be downloaded. Missing or unreadable clips would be skipped during
# training and counted against SkippedSampleHook's max_skip_ratio, so list only the clips you
# have, in the same format, with the official CSV as the label source:
#   python tools/data/build_annotations.py data/audioset/videos/balanced_train \
#       --labels OFFICIAL/balanced_train_segments.csv --format audioset --workers 16 \
#       --out data/audioset/annotations/balanced_train_segments.csv
#   (same for unbalanced_train; unusable files are listed in <out>.errors.csv)
# Before that, re-encode the downloads as the paper did (360p, 16 kHz audio; App. B.1):
#   python tools/data/preprocess.py RAW_VIDEOS data/audioset/videos --workers 16
# Normalisation statistics are Table 9's; for other data compute them with
#   python tools/data/compute_audio_stats.py CONFIG
data_root = 'data/audioset'
audio_mean, audio_std = -4.268, 4.569  # Table 9, AudioSet

# One sample (App. B.1): 10 s of audio -> 1024 x 128 Kaldi fbank, normalised, randomly rolled
# in time (augmentation R, Table 9 PT column); a 4-second clip of 8 frames at 2 fps from a
# random start (looping if the video is shorter), multi-scale random resized crop (scale
# 0.2-1.0) to 224 and horizontal flip.
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
audioset_train = dict(
    type='AVDataset',
    ann_format='audioset',
    label_file=f'{data_root}/annotations/class_labels_indices.csv',
    filename_template='{ytid}.mp4',
    pipeline=train_pipeline)

train_dataloader = dict(
    batch_size=8,  # per GPU: 512 in total on 64 GPUs (Table 9)
    num_workers=8,  # per GPU; benchmarks/data_throughput.py measures clips/s per worker
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),  # sets unreadable clips aside (counted)
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(audioset_train,
                 ann_file=f'{data_root}/annotations/unbalanced_train_segments.csv',
                 data_prefix=f'{data_root}/videos/unbalanced_train'),
            dict(audioset_train,
                 ann_file=f'{data_root}/annotations/balanced_train_segments.csv',
                 data_prefix=f'{data_root}/videos/balanced_train'),
        ]),
)
