# Table 12b, row "Time-Freq (A), Space-Time (V)" at 80%: structured masking for both modalities.
# Other columns: --cfg-options model.audio_encoder.mask_ratio=0.7 model.video_encoder.mask_ratio=0.7
_base_ = ['./_joint_av_mae.py']

model = dict(
    audio_encoder=dict(mask_type='time_freq'),
    video_encoder=dict(mask_type='space_time'))
