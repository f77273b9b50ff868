# `make demo`, stage 2 iteration 1 (Sec. 3.3): a re-initialised student of the demo's stage-1 size
# predicts the frozen stage-1 teacher's fused tokens (M-Fusion, computed on the complete view)
# at its masked positions, plus the same contrast; everything else is configs/demo/stage1.py.
# mavil/demo/run.py points the teacher at the config and checkpoint stage 1 actually used.
_base_ = ['./stage1.py']

model = dict(
    target=dict(
        _delete_=True,
        type='TeacherTargets',
        teacher_config='configs/demo/stage1.py',
        teacher_ckpt='work_dirs/demo/stage1/iter_300.pth',
        target_type='M-Fusion',
        autocast=False))  # fp32 teacher: bf16 does not pay at this width on CPU
# A shorter schedule than stage 1 keeps `make demo` within its time budget.
max_iters = 200
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, T_max=max_iters - 20,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
