# MAViL stage 1 (Sec. 3.1-3.2, Eq. 4): raw audio-video reconstruction + inter/intra contrast.
# Audio encoder from scratch; video encoder from ImageNet self-supervised MAE ViT-B ("IN-SSL",
# Sec. 4.2, App. B.3, Table 5b; the 2D patch kernel inflated to the 2x16x16 tubelet).
# checkpoints/mae_pretrain_vit_base.pth is the official MAE release file:
#   https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth (github.com/facebookresearch/mae)
# Without it, training stops before the first step; ablations/init_scratch.py trains from scratch.
# Stage-2 students (stage2_iter*.py) inherit this initialisation, as in the paper.
_base_ = [
    '../_base_/models/mavil_vit_base.py',
    '../_base_/datasets/audioset_pretrain.py',
    '../_base_/schedules/pretrain_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    video_encoder=dict(
        init_cfg=dict(type='ImageViTInflateInit',
                      checkpoint='checkpoints/mae_pretrain_vit_base.pth')))
