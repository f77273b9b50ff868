# Table 13a, alpha = 0.05: weight of the inter-modal contrast (Eq. 4; default 0.1).
_base_ = ['../stage1.py']

model = dict(inter_loss=dict(loss_weight=0.05))
