# tools/reproduce.py, Table 4a "M-Uni": stage-2 iteration 1 predicting the stage-1 teacher's
# uni-modal encoder outputs instead of its fused ones (M-Fusion, ../stage2_iter1.py).
_base_ = ['../stage2_iter1.py']

model = dict(target=dict(target_type='M-Uni'))
