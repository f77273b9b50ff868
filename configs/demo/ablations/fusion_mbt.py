# tools/reproduce.py, Table 1 "MBT": the joint AV-MAE (no contrast) with MBT fusion twice as
# deep as the demo's vanilla fusion (the paper compares MBT^(4) with Vanilla^(2)); the demo's
# 4 heads carry over, and MBTFusion's 4 bottleneck tokens are the paper's.
_base_ = ['./contrast_none.py']

model = dict(fusion=dict(type='MBTFusion', depth=2))
