# Table 12b, the row of mask_type_time_freq_space_time.py at the 90% column: the same
# structured masking with 90% of the tokens of both modalities masked.
_base_ = ['./mask_type_time_freq_space_time.py']

model = dict(audio_encoder=dict(mask_ratio=0.9), video_encoder=dict(mask_ratio=0.9))
