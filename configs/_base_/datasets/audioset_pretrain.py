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
# Pipelines: pretrain_pipelines.py with AudioSet's statistics (Table 9); for other data
# compute them with  python tools/data/compute_audio_stats.py CONFIG
_base_ = ['./pretrain_pipelines.py']

data_root = 'data/audioset'
train_pipeline = {{_base_.pretrain_pipelines.audioset.train}}
test_pipeline = {{_base_.pretrain_pipelines.audioset.test}}
pretrain_pipelines = None  # this dataset's entry only
audioset_train = dict(
    type='AVDataset',
    ann_format='audioset',
    label_file=f'{data_root}/annotations/class_labels_indices.csv',
    filename_template='{ytid}.mp4',
    pipeline=train_pipeline)

train_dataloader = dict(
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(audioset_train,
                 ann_file=f'{data_root}/annotations/unbalanced_train_segments.csv',
                 data_prefix=f'{data_root}/videos/unbalanced_train'),
            dict(audioset_train,
                 ann_file=f'{data_root}/annotations/balanced_train_segments.csv',
                 data_prefix=f'{data_root}/videos/balanced_train'),
        ]))
