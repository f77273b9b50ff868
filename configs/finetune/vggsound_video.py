# VGGSound video-only fine-tuning (Table 6, V; Table 9): the pre-trained video encoder; 10-clip
# testing (Table 10).
#   python tools/train.py configs/finetune/vggsound_video.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_video_vit_base.py', '../_base_/datasets/ft_vggsound.py',
    '../_base_/schedules/finetune_vggsound.py', '../_base_/default_runtime.py'
]

# label smoothing 0.1: single-label data with video (MAE-ST's video fine-tuning recipe)
model = dict(head=dict(num_classes=309), label_smoothing=0.1)
train_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.video_train}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.video_val}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.video_test}}))
