# Table 5c, column "20" (the default). Same run as ../stage1.py.
_base_ = ['../stage1.py']
