# AudioSet AS-2M fine-tuning data (Sec. 4.1, App. B.3, Table 9): the full training set
# (unbalanced + balanced, ~2M clips) with the distributed weighted sampler, 200K clips drawn
# per epoch with replacement; eval set and pipelines as AS-20K (ft_audioset_20k.py).
#   data/audioset/annotations/unbalanced_train_segments.csv, videos/unbalanced_train/<YTID>.mp4
# The *_audio / *_video configs select `{{_base_.audio_train_dataset}}` / `video_train_dataset`.
_base_ = ['./ft_audioset_20k.py']

data_root = 'data/audioset'
balanced_train = dict(
    type='AVDataset',
    ann_format='audioset',
    label_file=f'{data_root}/annotations/class_labels_indices.csv',
    filename_template='{ytid}.mp4',
    ann_file=f'{data_root}/annotations/balanced_train_segments.csv',
    data_prefix=f'{data_root}/videos/balanced_train')
unbalanced_train = dict(balanced_train,
                        ann_file=f'{data_root}/annotations/unbalanced_train_segments.csv',
                        data_prefix=f'{data_root}/videos/unbalanced_train')


def _full_train_set(pipeline):
    return dict(type='ConcatDataset',
                datasets=[dict(unbalanced_train, pipeline=pipeline),
                          dict(balanced_train, pipeline=pipeline)])


train_dataset = _full_train_set({{_base_.pipelines.train}})
audio_train_dataset = _full_train_set({{_base_.pipelines.audio_train}})
video_train_dataset = _full_train_set({{_base_.pipelines.video_train}})
train_dataloader = dict(
    batch_size=8,  # per GPU: 512 = 64 GPUs x 8 (Table 9)
    sampler=dict(_delete_=True, type='DistributedWeightedSampler', num_samples=200000),
    dataset=dict(_delete_=True, **train_dataset))
