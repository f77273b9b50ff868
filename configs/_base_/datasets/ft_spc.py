# Speech Commands v1 (SPC-1: 10 keywords + "silence" + "unknown" = 12 classes) fine-tuning data
# (Sec. 4.5, Table 7, Table 9): 1-second clips, accuracy on the official test list. Audio only:
# 128 fbank frames, SPC statistics (mean -6.702, std 5.448), random roll (R) + noise at 20 dB
# SNR (N), SpecAugment 48/48, mixup 0.5 (with BCE).
# Table 9 (*): the training annotation repeats the clips of each class so that every class has
# 50% of the size of the "unknown" class; write the repeated rows into train.csv (`filename,
# labels`) -- it is a property of the annotation, not of the sampler.
data_root = 'data/speech_commands_v1'
spc = dict(type='AVDataset', ann_format='csv', label_file=f'{data_root}/classes.txt',
           data_prefix=f'{data_root}/audio')

audio_train_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', modalities=('audio', ), min_duration=0.5),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioRandomRoll'),
    dict(type='AudioPadCrop', target_length=128),
    dict(type='AudioNormalize', mean=-6.702, std=5.448),
    dict(type='AudioAddNoise', snr_db=20.0),
    dict(type='SpecAugment', time_mask=48, freq_mask=48),
    dict(type='PackAVInputs', modalities=('audio', )),
]
audio_test_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', modalities=('audio', ), min_duration=0.5),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioPadCrop', target_length=128),
    dict(type='AudioNormalize', mean=-6.702, std=5.448),
    dict(type='PackAVInputs', modalities=('audio', )),
]
train_dataloader = dict(
    batch_size=64,  # per GPU: 256 = 4 GPUs x 64 (Table 9)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(spc, ann_file=f'{data_root}/annotations/train.csv',
                 pipeline=audio_train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(spc, ann_file=f'{data_root}/annotations/valid.csv',
                 pipeline=audio_test_pipeline, test_mode=True))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file=f'{data_root}/annotations/test.csv'))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
