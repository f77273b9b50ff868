# Table 3, column "None": reconstruction only (Joint AV-MAE), no contrastive loss.
# Same run as fusion_vanilla_l2.py.
_base_ = ['./_joint_av_mae.py']
