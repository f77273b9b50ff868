# MAViL stage 2, iteration 2 (Table 4b): the teacher is the iteration-1 student.
_base_ = ['./stage2_iter1.py']

model = dict(
    target=dict(
        teacher_config='configs/mavil/stage2_iter1.py',
        teacher_ckpt='work_dirs/stage2_iter1/epoch_20.pth'))
