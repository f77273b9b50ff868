# Table 5c, column "15": 15 pre-training epochs per stage (4 warm-up; the cosine follows
# max_epochs, mavil/engine/schedules.py).
_base_ = ['../stage1.py']

train_cfg = dict(max_epochs=15)
