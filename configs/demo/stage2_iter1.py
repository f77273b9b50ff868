# `make demo`, stage 2 iteration 1 (Sec. 3.3): a re-initialised student of the demo's stage-1 size
# predicts the frozen stage-1 teacher's fused tokens (M-Fusion, computed on the complete view)
# at its masked positions, plus the same contrast; everything else, the schedule included (the
# paper trains every stage equally long), is configs/demo/stage1.py.
# mavil/demo/run.py points the teacher at the config and checkpoint stage 1 actually used.
_base_ = ['./stage1.py', '../_base_/models/teacher_targets.py']

model = dict(
    target=dict(
        _base_.teacher_targets,
        _delete_=True,
        teacher_config='configs/demo/stage1.py',
        teacher_ckpt='work_dirs/demo/seed_0/stage1/iter_200.pth',
        autocast=False))  # fp32 teacher: bf16 does not pay at this width on CPU
