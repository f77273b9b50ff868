# Table 5c, column "25": 25 pre-training epochs per stage.
_base_ = ['../stage1.py']

train_cfg = dict(max_epochs=25)
