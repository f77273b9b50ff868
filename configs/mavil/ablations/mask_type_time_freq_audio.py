# Table 12b, row "Time-Freq (A), Random (V)" at 80%: audio masks whole time rows and frequency
# bands (slot ratio time : frequency = 1 : 2, App. C.1); video keeps random masking.
# Other columns: --cfg-options model.audio_encoder.mask_ratio=0.7 model.video_encoder.mask_ratio=0.7
_base_ = ['./_joint_av_mae.py']

model = dict(audio_encoder=dict(mask_type='time_freq'))
