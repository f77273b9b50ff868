# Table 5a, column "1M": a 1M-clip random subset of AS-2M (50 %), built as in data_200k.py with
# --subset 1000000 --seed 0.
_base_ = ['./data_200k.py']

train_dataloader = dict(
    dataset=dict(ann_file='data/audioset/annotations/unbalanced_train_subset1000000_seed0.csv'))
