# Table 4a, column "M-Fusion" (the default): the stage-1 teacher's fused tokens. Same run as
# ../stage2_iter1.py.
_base_ = ['../stage2_iter1.py']
