# MSR-VTT audio-to-video retrieval data (Sec. 4.5, Table 8). Pairs only, no labels: the audio
# track of test video i must retrieve video i among all test videos (R@1/5/10, median rank).
# Annotations in the generic 'csv' format of AVDataset, header `filename,clip_id`:
#   data/msrvtt/annotations/train_9k.csv   the 9K training videos (train + val of the
#                                          official split, minus the 1k-A test videos)
#   data/msrvtt/annotations/test_1k.csv    the 1k-A ("JSFusion") test videos, e.g. from
#                                          MSRVTT_JSFUSION_test.csv: filename = {video_id}.mp4
#   data/msrvtt/videos/video{N}.mp4
# Some MSR-VTT videos have no audio track: list only videos with both streams (e.g. with
# tools/data/build_annotations.py), or they are skipped and counted and the test set shrinks.
# Audio: 10 s (1024 frames), centre-cropped for testing so it covers the centred video clip;
# AudioSet statistics (the pre-training normalisation).
data_root = 'data/msrvtt'
pairs = dict(type='AVDataset', ann_format='csv', data_prefix=f'{data_root}/videos')
train_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(num_frames=8, fps=2.0)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioPadCrop', target_length=1024, crop='random'),
    dict(type='AudioNormalize', mean=-4.268, std=4.569),
    dict(type='VideoRandomResizedCrop', size=224, scale=(0.2, 1.0)),
    dict(type='VideoRandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav',
         clip_sampler=dict(num_frames=8, fps=2.0, test_mode=True, num_clips=1)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128),
    dict(type='AudioPadCrop', target_length=1024, crop='center'),
    dict(type='AudioNormalize', mean=-4.268, std=4.569),
    dict(type='VideoResize', short_side=224),
    dict(type='VideoCenterCrop', size=224),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(pairs, ann_file=f'{data_root}/annotations/train_9k.csv',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mavil.av_collate'),
    dataset=dict(pairs, ann_file=f'{data_root}/annotations/test_1k.csv',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='RetrievalRecall', ks=(1, 5, 10), directions=('a2v', 'v2a'))
test_evaluator = val_evaluator
