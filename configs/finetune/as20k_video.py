# AS-20K video-only fine-tuning (Table 6, V; Table 9): the pre-trained video encoder; 10-clip
# testing (Table 10).
#   python tools/train.py configs/finetune/as20k_video.py --cfg-options load_from=MAVIL_CKPT
_base_ = [
    '../_base_/models/classifier_video_vit_base.py', '../_base_/datasets/ft_audioset_20k.py',
    '../_base_/schedules/finetune_as20k.py', '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=527))
train_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.video_train}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.video_val}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.pipelines.video_test}}))
