# ESC-50 fine-tuning data (Sec. 4.5, Table 7, Table 9): 2,000 5-second environmental sound
# clips, 50 classes, 5 folds; accuracy. Audio only; pipelines: ft_pipelines.py with ESC-50's
# Table 9 column (512 frames, its statistics, SpecAugment 96/24).
# Standard 5-fold cross-validation: train on 4 folds, test on the 5th, average the 5 runs.
# Annotations (csv, `filename,labels`) per fold, e.g. from the official meta/esc50.csv
# (columns filename,fold,target,category): rows with fold != k -> train_fold{k}.csv, fold == k
# -> test_fold{k}.csv, labels = category. Other folds: override the ann_file of the train /
# val / test dataloaders' datasets (`fold` is read only in this file).
_base_ = ['./ft_pipelines.py']

pipelines = {{_base_.ft_pipelines.esc50}}
ft_pipelines = None  # this dataset's entry only
data_root = 'data/esc50'
fold = 1
esc = dict(type='AVDataset', ann_format='csv', label_file=f'{data_root}/classes.txt',
           data_prefix=f'{data_root}/audio')  # classes.txt: the 50 names, one a line, sorted

train_dataloader = dict(
    batch_size=16,  # per GPU: 64 = 4 GPUs x 16 (Table 9)
    dataset=dict(esc, ann_file=f'{data_root}/annotations/train_fold{fold}.csv',
                 pipeline={{_base_.ft_pipelines.esc50.audio_train}}))
val_dataloader = dict(
    batch_size=16,
    dataset=dict(esc, ann_file=f'{data_root}/annotations/test_fold{fold}.csv',
                 pipeline={{_base_.ft_pipelines.esc50.audio_test}}, test_mode=True))
test_dataloader = val_dataloader
