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
_base_ = ['./pretrain_pipelines.py']

data_root = 'data/vggsound'
train_pipeline = {{_base_.pretrain_pipelines.vggsound.train}}
test_pipeline = {{_base_.pretrain_pipelines.vggsound.test}}
pretrain_pipelines = None  # this dataset's entry only

train_dataloader = dict(
    batch_size=8,  # per GPU
    dataset=dict(
        type='AVDataset',
        ann_file=f'{data_root}/vggsound.csv',
        ann_format='vggsound',
        split='train',
        data_prefix=f'{data_root}/videos',
        filename_template='{ytid}_{start:06d}.mp4',
        pipeline=train_pipeline))
