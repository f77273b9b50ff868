# AudioSet AS-20K fine-tuning data (Sec. 4.1, Table 9): train on the balanced set (~20K clips),
# validate / test on the eval set (~19K clips, AST's list); 527 classes, mAP.
# Layout as audioset_pretrain.py (see there for building annotations of the clips you have):
#   data/audioset/annotations/{class_labels_indices,balanced_train_segments,eval_segments}.csv
#   data/audioset/videos/{balanced_train,eval}/<YTID>.mp4
# Pipelines for the three modality settings are defined here; configs/finetune/*_audio.py and
# *_video.py select theirs (`{{_base_.audio_train_pipeline}}` ...). Audio: kaldi fbank, random
# time roll (R), (x - mean) / (2 std) with AudioSet statistics, SpecAugment 192/48 (Table 9).
# Video: 8 frames at 2 fps; random resized crop + flip for training; resize + centre crop for
# validation (one clip) and testing (10 uniformly spaced clips, averaged; App. B.3, Table 10).
data_root = 'data/audioset'
label_file = f'{data_root}/annotations/class_labels_indices.csv'
audioset = dict(type='AVDataset', ann_format='audioset', label_file=label_file,
                filename_template='{ytid}.mp4')
balanced_train = dict(audioset, ann_file=f'{data_root}/annotations/balanced_train_segments.csv',
                      data_prefix=f'{data_root}/videos/balanced_train')
eval_set = dict(audioset, ann_file=f'{data_root}/annotations/eval_segments.csv',
                data_prefix=f'{data_root}/videos/eval', test_mode=True)

audio_train_transforms = [
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioRandomRoll'),
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=-4.268, std=4.569),
    dict(type='SpecAugment', time_mask=192, freq_mask=48),
]
audio_test_transforms = [
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=-4.268, std=4.569),
]
video_train_transforms = [
    dict(type='VideoRandomResizedCrop', size=224, scale=(0.08, 1.0)),
    dict(type='VideoRandomFlip', prob=0.5),
]
video_test_transforms = [
    dict(type='VideoResize', short_side=224),
    dict(type='VideoCenterCrop', size=224),
]
clip = dict(num_frames=8, fps=2.0)
test_clip = dict(num_frames=8, fps=2.0, test_mode=True, num_clips=1)
multi_clip = dict(num_frames=8, fps=2.0, test_mode=True, num_clips=10)


def _pipeline(modalities, clip_sampler, train):
    audio = audio_train_transforms if train else audio_test_transforms
    video = video_train_transforms if train else video_test_transforms
    return ([dict(type='LoadAudioVideo', backend='pyav', modalities=modalities,
                  clip_sampler=clip_sampler)] +
            (audio if 'audio' in modalities else []) + (video if 'video' in modalities else []) +
            [dict(type='PackAVInputs', modalities=modalities)])


train_pipeline = _pipeline(('audio', 'video'), clip, train=True)
val_pipeline = _pipeline(('audio', 'video'), test_clip, train=False)
test_pipeline = _pipeline(('audio', 'video'), multi_clip, train=False)
audio_train_pipeline = _pipeline(('audio', ), clip, train=True)
audio_test_pipeline = _pipeline(('audio', ), test_clip, train=False)  # val and test
video_train_pipeline = _pipeline(('video', ), clip, train=True)
video_val_pipeline = _pipeline(('video', ), test_clip, train=False)
video_test_pipeline = _pipeline(('video', ), multi_clip, train=False)

train_dataloader = dict(
    batch_size=8,  # per GPU: 64 = 8 GPUs x 8 (Table 9)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(balanced_train, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(eval_set, pipeline=val_pipeline))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))
val_evaluator = dict(type='MeanAveragePrecision')
test_evaluator = dict(type='MeanAveragePrecision')
