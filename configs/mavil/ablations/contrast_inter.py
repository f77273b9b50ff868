# Table 3, column "Inter": reconstruction + inter-modal (audio <-> video) InfoNCE only
# (alpha 0.1, tau 0.1), as in CAV-MAE.
_base_ = ['../stage1.py']

model = dict(intra_loss=None)
