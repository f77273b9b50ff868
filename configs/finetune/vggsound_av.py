# VGGSound audio+video fine-tuning (Table 6, A+V; Table 9): pre-trained encoders + a new 2-layer
# fusion Transformer, the video encoder's lr halved (App. B.3); top-1 accuracy, 10-clip testing.
#   python tools/train.py configs/finetune/vggsound_av.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_av_vit_base.py', '../_base_/datasets/ft_vggsound.py',
    '../_base_/schedules/finetune_vggsound.py', '../_base_/default_runtime.py'
]

# label smoothing 0.1: single-label data with video (MAE-ST's video fine-tuning recipe)
model = dict(head=dict(num_classes=309), label_smoothing=0.1)
optim_wrapper = dict(paramwise_cfg=dict(module_lr_mult=dict(video_encoder=0.5)))
