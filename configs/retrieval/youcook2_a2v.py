# YouCook2 audio-to-video retrieval (Sec. 4.5, Table 8): as MSR-VTT (msrvtt_a2v.py), on
# clip-level recipe segments: train on the training split's segments, test on the validation
# split's (~3.3K clips; the test split's annotations are not public).
# The official youcookii_annotations_trainval.json lists per video `subset` and
# `annotations: [{id, segment: [start, end], sentence}]`. Cut each segment into its own file
#   data/youcook2/clips/{video_id}_{id:02d}.mp4      (segment[0] .. segment[1] seconds)
# and list them in the generic 'csv' format (header `filename,clip_id`):
#   data/youcook2/annotations/train_segments.csv, val_segments.csv
# Segments are mostly shorter than 10 s: the audio is padded to 1024 frames, as in fine-tuning.
_base_ = ['./msrvtt_a2v.py']

train_dataloader = dict(
    dataset=dict(ann_file='data/youcook2/annotations/train_segments.csv',
                 data_prefix='data/youcook2/clips'))
val_dataloader = dict(
    dataset=dict(ann_file='data/youcook2/annotations/val_segments.csv',
                 data_prefix='data/youcook2/clips'))
test_dataloader = dict(
    dataset=dict(ann_file='data/youcook2/annotations/val_segments.csv',
                 data_prefix='data/youcook2/clips'))
