# Table 2, column "40%": the same masking ratio for audio and video (Joint AV-MAE, no contrast).
_base_ = ['./_joint_av_mae.py']

model = dict(
    audio_encoder=dict(mask_ratio=0.4),
    video_encoder=dict(mask_ratio=0.4))
