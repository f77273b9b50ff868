# MAViL stage 1 (Sec. 3.1-3.2, Eq. 4): raw audio-video reconstruction + inter/intra contrast.
# Audio encoder from scratch; video encoder from ImageNet self-supervised MAE ViT-B ("IN-SSL",
# Sec. 4.2, App. B.3, Table 5b; the 2D patch kernel inflated to the 2x16x16 tubelet).
# The official MAE release file (github.com/facebookresearch/mae) is downloaded on first use
# into torch.hub's cache ($TORCH_HOME/hub/checkpoints/); a local path works as well, and
# ablations/init_scratch.py trains the video encoder from scratch. sha256=None: the hash was
# not published with the file; the first download logs the SHA-256 it computed, to pin here.
# Stage-2 students (stage2_iter*.py) inherit this initialisation, as in the paper.
_base_ = [
    '../_base_/models/mavil_vit_base.py',
    '../_base_/datasets/audioset_pretrain.py',
    '../_base_/schedules/pretrain_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    video_encoder=dict(
        init_cfg=dict(
            type='ImageViTInflateInit',
            checkpoint='https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth',
            sha256=None)))
