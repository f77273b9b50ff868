# Table 1, column "Vanilla^(2)" (the default): a 2-layer joint Transformer over the
# concatenated audio and video tokens. Same run as _joint_av_mae.py, mask_ratio_80.py,
# mask_type_random.py and contrast_none.py (the paper's shared gray entry): train it once.
_base_ = ['./_joint_av_mae.py']
