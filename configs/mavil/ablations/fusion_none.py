# Table 1, column "None": no fusion encoder, i.e. the uni-modal Audio-MAE and Video-MAE
# baselines (no contrast, so audio and video share nothing but the batch).
_base_ = ['./_joint_av_mae.py']

model = dict(fusion=None)
