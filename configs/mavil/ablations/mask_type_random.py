# Table 12b, row "Random (A), Random (V)" at 80% (the default): i.i.d. per-patch masking for
# both modalities. Same run as fusion_vanilla_l2.py. Its 70% / 90% columns are
# mask_ratio_70.py / mask_ratio_90.py.
_base_ = ['./_joint_av_mae.py']
