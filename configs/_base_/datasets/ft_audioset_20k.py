# AudioSet AS-20K fine-tuning data (Sec. 4.1, Table 9): train on the balanced set (~20K clips),
# validate / test on the eval set (~19K clips, AST's list); 527 classes, mAP.
# Layout as audioset_pretrain.py (see there for building annotations of the clips you have):
#   data/audioset/annotations/{class_labels_indices,balanced_train_segments,eval_segments}.csv
#   data/audioset/videos/{balanced_train,eval}/<YTID>.mp4
# Pipelines: ft_pipelines.py with AudioSet's Table 9 column; configs/finetune/*_audio.py and
# *_video.py select theirs (`{{_base_.pipelines.audio_train}}` ...).
_base_ = ['./ft_pipelines.py']

pipelines = {{_base_.ft_pipelines.audioset}}
ft_pipelines = None  # this dataset's entry only
data_root = 'data/audioset'
audioset = dict(type='AVDataset', ann_format='audioset',
                label_file=f'{data_root}/annotations/class_labels_indices.csv',
                filename_template='{ytid}.mp4')
balanced_train = dict(audioset, ann_file=f'{data_root}/annotations/balanced_train_segments.csv',
                      data_prefix=f'{data_root}/videos/balanced_train')
eval_set = dict(audioset, ann_file=f'{data_root}/annotations/eval_segments.csv',
                data_prefix=f'{data_root}/videos/eval', test_mode=True)

train_dataloader = dict(  # per GPU: 64 = 8 GPUs x 8 (Table 9)
    dataset=dict(balanced_train, pipeline={{_base_.ft_pipelines.audioset.train}}))
val_dataloader = dict(dataset=dict(eval_set, pipeline={{_base_.ft_pipelines.audioset.val}}))
test_dataloader = dict(
    val_dataloader, dataset=dict(eval_set, pipeline={{_base_.ft_pipelines.audioset.test}}))
val_evaluator = dict(_delete_=True, type='MeanAveragePrecision')
test_evaluator = val_evaluator
