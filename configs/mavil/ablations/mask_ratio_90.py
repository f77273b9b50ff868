# Table 2, column "90%": the same masking ratio for audio and video (Joint AV-MAE, no contrast).
# Also the 90%(A) / 90%(V) diagonal cell of Table 12a and the 90% column of Table 12b's
# "Random (A), Random (V)" row.
_base_ = ['./_joint_av_mae.py']

model = dict(
    audio_encoder=dict(mask_ratio=0.9),
    video_encoder=dict(mask_ratio=0.9))
