# Table 5d, column "ViT-B" (the default). Same run as ../stage1.py.
_base_ = ['../stage1.py']
