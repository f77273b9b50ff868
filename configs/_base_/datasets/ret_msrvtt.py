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
_base_ = ['./pretrain_pipelines.py']

data_root = 'data/msrvtt'
pairs = dict(type='AVDataset', ann_format='csv', data_prefix=f'{data_root}/videos')
# pretrain_pipelines.py's AudioSet pipelines without the roll; the 10 s window is taken at
# random for training and centred for testing
train_pipeline = [dict(step, crop='random') if step.type == 'AudioPadCrop' else step
                  for step in _base_.pretrain_pipelines.audioset.train
                  if step.type != 'AudioRandomRoll']
test_pipeline = [dict(step, crop='center') if step.type == 'AudioPadCrop' else step
                 for step in _base_.pretrain_pipelines.audioset.test]
pretrain_pipelines = None  # this dataset's entry only
train_dataloader = dict(  # batch, workers, sampler and collate: pretrain_pipelines.py's
    dataset=dict(pairs, ann_file=f'{data_root}/annotations/train_9k.csv',
                 pipeline=train_pipeline))
val_dataloader = dict(
    _base_.train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pairs, ann_file=f'{data_root}/annotations/test_1k.csv',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='RetrievalRecall', ks=(1, 5, 10), directions=('a2v', 'v2a'))
test_evaluator = val_evaluator
