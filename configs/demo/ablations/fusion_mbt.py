# tools/reproduce.py, Table 1 "MBT": the joint AV-MAE (no contrast) with MBT fusion twice as
# deep as the demo's vanilla fusion (the paper compares MBT^(4) with Vanilla^(2)).
_base_ = ['./contrast_none.py']

model = dict(
    fusion=dict(
        _delete_=True,  # another component: do not inherit JointFusion's keys
        type='MBTFusion',
        depth=2,
        num_heads=4,
        num_bottlenecks=4))
