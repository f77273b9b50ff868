# AS-20K audio-only fine-tuning (Table 6, A; Table 9): the pre-trained audio encoder.
#   python tools/train.py configs/finetune/as20k_audio.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_audio_vit_base.py', '../_base_/datasets/ft_audioset_20k.py',
    '../_base_/schedules/finetune_as20k.py', '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=527))
train_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_train}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_test}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_test}}))
