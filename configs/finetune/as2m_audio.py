# AS-2M audio-only fine-tuning (Table 6, A; Table 9): the pre-trained audio encoder.
#   python tools/train.py configs/finetune/as2m_audio.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_audio_vit_base.py', '../_base_/datasets/ft_audioset_2m.py',
    '../_base_/schedules/finetune_as2m.py', '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=527))
train_dataloader = dict(dataset={{_base_.audio_train_dataset}})
val_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_test}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.audio_test}}))
