# tools/reproduce.py, Table 3 "Intra": the demo's stage 1 with the intra-modal contrast only.
_base_ = ['../stage1.py']

model = dict(inter_loss=None)
