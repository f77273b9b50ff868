# Table 12b, row "Random (A), Space-Time (V)" at 80%: video masks whole frames and spatial
# positions across time (slot ratio time : space = 1 : 2, App. C.1); audio keeps random masking.
# Other columns: --cfg-options model.audio_encoder.mask_ratio=0.7 model.video_encoder.mask_ratio=0.7
_base_ = ['./_joint_av_mae.py']

model = dict(video_encoder=dict(mask_type='space_time'))
