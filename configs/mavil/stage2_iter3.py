# MAViL stage 2, iteration 3 (Table 4b; the paper's final model): the teacher is the
# iteration-2 student.
_base_ = ['./stage2_iter2.py']

model = dict(
    target=dict(
        teacher_config='configs/mavil/stage2_iter2.py',
        teacher_ckpt='work_dirs/stage2_iter2/epoch_20.pth'))
