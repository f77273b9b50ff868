# Table 5b, column "IN-SSL" (the paper's default): the video encoder starts from ImageNet
# self-supervised MAE ViT-B, its patch kernel inflated to the tubelet. Same run as ../stage1.py.
_base_ = ['../stage1.py']
