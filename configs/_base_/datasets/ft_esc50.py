# ESC-50 fine-tuning data (Sec. 4.5, Table 7, Table 9): 2,000 5-second environmental sound
# clips, 50 classes, 5 folds; accuracy. Audio only: 512 fbank frames, ESC-50 statistics
# (mean -6.627, std 5.359), random roll (R), SpecAugment 96/24, no mixup.
# Standard 5-fold cross-validation: train on 4 folds, test on the 5th, average the 5 runs.
# Annotations (csv, `filename,labels`) per fold, e.g. from the official meta/esc50.csv
# (columns filename,fold,target,category): rows with fold != k -> train_fold{k}.csv, fold == k
# -> test_fold{k}.csv, labels = category. Other folds: override the ann_file of the train /
# val / test dataloaders' datasets (`fold` is read only in this file).
data_root = 'data/esc50'
fold = 1
classes_file = f'{data_root}/classes.txt'  # the 50 category names, one a line, sorted
esc = dict(type='AVDataset', ann_format='csv', label_file=classes_file,
           data_prefix=f'{data_root}/audio')

audio_train_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', modalities=('audio', )),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioRandomRoll'),
    dict(type='AudioPadCrop', target_length=512),
    dict(type='AudioNormalize', mean=-6.627, std=5.359),
    dict(type='SpecAugment', time_mask=96, freq_mask=24),
    dict(type='PackAVInputs', modalities=('audio', )),
]
audio_test_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', modalities=('audio', )),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioPadCrop', target_length=512),
    dict(type='AudioNormalize', mean=-6.627, std=5.359),
    dict(type='PackAVInputs', modalities=('audio', )),
]
train_dataloader = dict(
    batch_size=16,  # per GPU: 64 = 4 GPUs x 16 (Table 9)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(esc, ann_file=f'{data_root}/annotations/train_fold{fold}.csv',
                 pipeline=audio_train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(esc, ann_file=f'{data_root}/annotations/test_fold{fold}.csv',
                 pipeline=audio_test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
