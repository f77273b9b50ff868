# AS-2M audio+video fine-tuning (Table 6, A+V; Table 9): pre-trained encoders + a new 2-layer
# fusion Transformer, the video encoder's lr halved (App. B.3); mAP, 10-clip testing.
#   python tools/train.py configs/finetune/as2m_av.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_av_vit_base.py', '../_base_/datasets/ft_audioset_2m.py',
    '../_base_/schedules/finetune_as2m.py', '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=527))
optim_wrapper = dict(paramwise_cfg=dict(module_lr_mult=dict(video_encoder=0.5)))
