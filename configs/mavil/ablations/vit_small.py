# Table 5d, column "ViT-S": ViT-S encoders (12 x 384, 6 heads) for audio and video, the fusion
# at that width (6 heads); decoders as ViT-B (8 x 512). MAE released no ViT-S, so the video
# encoder starts from scratch (our choice; the paper does not say). Fine-tuning lr (Table 9,
# footnote): AS-20K 2e-3, AS-2M 5e-4, e.g.
#   configs/finetune/as20k_audio.py --cfg-options optim_wrapper.optimizer.lr=2e-3 \
#       model.audio_encoder.arch=small
_base_ = ['../stage1.py']

model = dict(
    audio_encoder=dict(arch='small'),
    video_encoder=dict(arch='small', init_cfg=None),
    fusion=dict(num_heads=6))
