# Table 12a (modality-wise masking), cell 70% (A) / 90% (V): a different masking ratio
# per modality (Joint AV-MAE, no contrast). The diagonal cells are mask_ratio_{70,80,90}.py.
_base_ = ['./_joint_av_mae.py']

model = dict(
    audio_encoder=dict(mask_ratio=0.7),
    video_encoder=dict(mask_ratio=0.9))
