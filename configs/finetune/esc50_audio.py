# ESC-50 audio-only fine-tuning (Table 7; Table 9): 512-frame input, cross-entropy, no mixup.
#   python tools/train.py configs/finetune/esc50_audio.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_audio_vit_base.py', '../_base_/datasets/ft_esc50.py',
    '../_base_/schedules/finetune_esc50.py', '../_base_/default_runtime.py'
]

model = dict(
    audio_encoder=dict(input_size=(512, 128)),
    head=dict(num_classes=50),
    loss=dict(type='SoftCrossEntropyLoss'),
    batch_augment=None)
