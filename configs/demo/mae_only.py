# `make demo`, baseline row: the paper's Audio-MAE + Video-MAE (Table 1 "None" / Table 3 "None":
# no fusion encoder, no contrast), i.e. two uni-modal masked autoencoders trained side by side on
# the demo clips with the demo's stage-1 sizes, masking and schedule (same as
# configs/mavil/ablations/fusion_none.py relative to configs/mavil/stage1.py).
_base_ = ['./stage1.py']

model = dict(fusion=None, inter_loss=None, intra_loss=None)
