# Speech Commands v1 audio-only fine-tuning (Table 7 "SPC-1"; Table 9): 128-frame input, 12
# classes, mixup 0.5 with BCE.
#   python tools/train.py configs/finetune/spc_audio.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_audio_vit_base.py', '../_base_/datasets/ft_spc.py',
    '../_base_/schedules/finetune_spc.py', '../_base_/default_runtime.py'
]

model = dict(audio_encoder=dict(input_size=(128, 128)), head=dict(num_classes=12))
