# Table 5d, column "ViT-L" (and Table 14 "MAViL-Large, IN-SSL"): ViT-L encoders (24 x 1024,
# 16 heads), the fusion at that width (16 heads), decoders as ViT-B; the video encoder from
# MAE's ImageNet ViT-L (official release mae_pretrain_vit_large.pth:
# https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_large.pth). Fine-tuning lr
# (Table 9, footnote): AS-20K 5e-4, AS-2M 1e-4, e.g.
#   configs/finetune/as20k_audio.py --cfg-options optim_wrapper.optimizer.lr=5e-4 \
#       model.audio_encoder.arch=large
_base_ = ['../stage1.py']

model = dict(
    audio_encoder=dict(arch='large'),
    video_encoder=dict(
        arch='large', init_cfg=dict(checkpoint='checkpoints/mae_pretrain_vit_large.pth')),
    fusion=dict(num_heads=16))
