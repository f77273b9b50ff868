# Table 12b, the row of mask_type_space_time_video.py at the 70% column: the same
# structured masking with 70% of the tokens of both modalities masked.
_base_ = ['./mask_type_space_time_video.py']

model = dict(audio_encoder=dict(mask_ratio=0.7), video_encoder=dict(mask_ratio=0.7))
