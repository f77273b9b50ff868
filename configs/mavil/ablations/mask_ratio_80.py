# Table 2, column "80%" (the default); also the 80%(A) / 80%(V) cell of Table 12a.
# Same run as fusion_vanilla_l2.py: 80% for both modalities is already the base's setting.
_base_ = ['./_joint_av_mae.py']
