# Table 5b, column "IN-SL": the video encoder starts from an ImageNet SUPERVISED ViT-B. The paper
# names no checkpoint; we use DeiT-B (ImageNet-1K only, like MAE's IN-SSL weights), timm's
# deit_base_patch16_224: https://dl.fbaipublicfiles.com/deit/deit_base_patch16_224-b5f2ef4d.pth
# Its position table is learned, not MAViL's fixed sin-cos one (Sec. 3.1): it is dropped
# (pos_embed='ignore') and the encoder keeps the fixed table.
_base_ = ['../stage1.py']

model = dict(
    video_encoder=dict(
        init_cfg=dict(checkpoint='checkpoints/deit_base_patch16_224-b5f2ef4d.pth',
                      pos_embed='ignore')))
