# Table 5a, column "200K": pre-training on a 200K-clip random subset of AS-2M (10 %). The
# subset comes from AS-2M's unbalanced part (the balanced 22K are left out, so the count is
# exact); build its annotation once with
#   python tools/data/build_annotations.py data/audioset/videos/unbalanced_train \
#       --labels OFFICIAL/unbalanced_train_segments.csv --format audioset --subset 200000 \
#       --seed 0 --out data/audioset/annotations/unbalanced_train_subset200000_seed0.csv
# Full MAViL: every stage trains on the subset (README: full-pipeline cells).
_base_ = ['../stage1.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='AVDataset',
        ann_format='audioset',
        label_file='data/audioset/annotations/class_labels_indices.csv',
        filename_template='{ytid}.mp4',
        ann_file='data/audioset/annotations/unbalanced_train_subset200000_seed0.csv',
        data_prefix='data/audioset/videos/unbalanced_train',
        pipeline={{_base_.train_pipeline}}))
