# tools/reproduce.py, Table 3 "None" (= Table 1 "Vanilla"): the demo's stage 1 without the
# contrastive losses (joint AV-MAE), as configs/mavil/ablations/contrast_none.py is to
# configs/mavil/stage1.py.
_base_ = ['../stage1.py']

model = dict(inter_loss=None, intra_loss=None)
