# Table 3, column "Inter+intra": the full MAViL stage 1 (Eq. 4), identical to ../stage1.py;
# the stage-1 row of Table 11 ("+ Intra and Inter contrast").
_base_ = ['../stage1.py']
