# tools/reproduce.py, Table 3 "Inter": the demo's stage 1 with the inter-modal contrast only.
_base_ = ['../stage1.py']

model = dict(intra_loss=None)
