# Table 5b, column "Rand." (and Table 14's "scratch / scratch" rows): the video encoder starts
# from random (MAE-style) weights like the audio encoder; no image checkpoint needed.
_base_ = ['../stage1.py']

model = dict(video_encoder=dict(init_cfg=None))
