# VGGSound fine-tuning data (Sec. 4.1, App. B.3, Table 9): ~183K training / ~15K test clips,
# 309 classes, top-1 / top-5 accuracy; distributed weighted sampler, 200K clips per epoch.
#   data/vggsound/vggsound.csv          YTID,start_seconds,label,split (no header)
#   data/vggsound/videos/{YTID}_{start:06d}.mp4
# Pipelines: ft_pipelines.py with VGGSound's Table 9 column (its statistics, noise N).
_base_ = ['./ft_pipelines.py']

pipelines = {{_base_.ft_pipelines.vggsound}}
ft_pipelines = None  # this dataset's entry only
vggsound = dict(type='AVDataset', ann_file='data/vggsound/vggsound.csv', ann_format='vggsound',
                data_prefix='data/vggsound/videos')  # both splits; `split` selects rows

train_dataloader = dict(  # per GPU: 256 = 32 GPUs x 8 (Table 9)
    sampler=dict(_delete_=True, type='DistributedWeightedSampler', num_samples=200000),
    dataset=dict(vggsound, split='train', pipeline={{_base_.ft_pipelines.vggsound.train}}))
val_dataloader = dict(dataset=dict(vggsound, split='test', test_mode=True,
                                   pipeline={{_base_.ft_pipelines.vggsound.val}}))
test_dataloader = dict(val_dataloader, dataset=dict(
    vggsound, split='test', test_mode=True, pipeline={{_base_.ft_pipelines.vggsound.test}}))
