# Table 1, column "MBT^(4)": 4 Multimodal Bottleneck Transformer layers (the superscript is
# the number of layers), exchanging information through 4 bottleneck tokens (App. B.2).
_base_ = ['./_joint_av_mae.py']

model = dict(
    fusion=dict(
        _delete_=True,  # another component: do not inherit JointFusion's keys
        type='MBTFusion',
        depth=4,
        num_heads=12,
        num_bottlenecks=4))
