# Table 1, column "Vanilla^(4)": a 4-layer joint Transformer fusion encoder.
_base_ = ['./_joint_av_mae.py']

model = dict(fusion=dict(depth=4))
