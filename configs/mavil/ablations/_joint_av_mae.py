# Joint AV-MAE: MAViL stage 1 WITHOUT the contrastive losses (Table 11, row "+ Joint AV-MAE").
# The shared base of the reconstruction-only ablations (Tables 1, 2 and 12 all ablate this
# model: their default cells, 36.8 audio / 17.7 video mAP, equal Table 3's "None" column).
# Defaults kept from ../stage1.py: 2-layer vanilla fusion, 80% random masking for both
# modalities, raw targets.
_base_ = ['../stage1.py']

model = dict(inter_loss=None, intra_loss=None)
