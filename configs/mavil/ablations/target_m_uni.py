# Table 4a, column "M-Uni": the stage-2 (iteration 1) student predicts the stage-1 MAViL
# teacher's UNI-MODAL encoder outputs (before its fusion encoder).
_base_ = ['../stage2_iter1.py']

model = dict(target=dict(target_type='M-Uni'))
