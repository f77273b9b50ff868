# Table 3, column "Intra": reconstruction + intra-modal InfoNCE only, between two masked views
# of the same clip (beta 0.01, tau 1.0).
_base_ = ['../stage1.py']

model = dict(inter_loss=None)
