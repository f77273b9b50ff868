# Speech Commands v1 (SPC-1: 10 keywords + "silence" + "unknown" = 12 classes) fine-tuning data
# (Sec. 4.5, Table 7, Table 9): 1-second clips, accuracy on the official test list. Audio only;
# pipelines: ft_pipelines.py with SPC's Table 9 column (128 frames, its statistics, noise N,
# SpecAugment 48/48).
# Table 9 (*): the training annotation repeats the clips of each class so that every class has
# 50% of the size of the "unknown" class; write the repeated rows into train.csv (`filename,
# labels`) -- it is a property of the annotation, not of the sampler.
_base_ = ['./ft_pipelines.py']

pipelines = {{_base_.ft_pipelines.spc}}
ft_pipelines = None  # this dataset's entry only
data_root = 'data/speech_commands_v1'
spc = dict(type='AVDataset', ann_format='csv', label_file=f'{data_root}/classes.txt',
           data_prefix=f'{data_root}/audio')

train_dataloader = dict(
    batch_size=64,  # per GPU: 256 = 4 GPUs x 64 (Table 9)
    dataset=dict(spc, ann_file=f'{data_root}/annotations/train.csv',
                 pipeline={{_base_.ft_pipelines.spc.audio_train}}))
val_dataloader = dict(
    batch_size=64,
    dataset=dict(spc, ann_file=f'{data_root}/annotations/valid.csv',
                 pipeline={{_base_.ft_pipelines.spc.audio_test}}, test_mode=True))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file=f'{data_root}/annotations/test.csv'))
