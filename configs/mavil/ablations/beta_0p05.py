# Table 13b, beta = 0.05: weight of the intra-modal contrast (Eq. 4; default 0.01).
_base_ = ['../stage1.py']

model = dict(intra_loss=dict(loss_weight=0.05))
