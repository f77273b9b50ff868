# VGGSound audio-only fine-tuning (Table 6, A; Table 9): the pre-trained audio encoder.
#   python tools/train.py configs/finetune/vggsound_audio.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_audio_vit_base.py', '../_base_/datasets/ft_vggsound.py',
    '../_base_/schedules/finetune_vggsound.py', '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=309))
train_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_train}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_test}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_test}}))
