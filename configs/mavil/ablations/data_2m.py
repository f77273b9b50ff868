# Table 5a, column "2M" (the default): all of AS-2M. Same run as ../stage1.py.
_base_ = ['../stage1.py']
