# Table 1, column "MBT^(4)": 4 Multimodal Bottleneck Transformer layers (the superscript is
# the number of layers), exchanging information through 4 bottleneck tokens (App. B.2); the
# 12 heads carry over from the vanilla fusion this replaces.
_base_ = ['./_joint_av_mae.py']

model = dict(fusion=dict(type='MBTFusion', depth=4, num_bottlenecks=4))
