# Stage-2 targets (Sec. 3.3, Table 4a): the frozen teacher's fused tokens (M-Fusion), predicted
# as they are (normalize=False); the teacher runs in bf16 where that is faster on the machine
# (autocast=None: mavil.hardware.bf16_is_faster). A stage-2 config names its teacher:
#   model = dict(target=dict(_base_.teacher_targets, _delete_=True,
#                            teacher_config=..., teacher_ckpt=...))
teacher_targets = dict(type='TeacherTargets', target_type='M-Fusion', normalize=False,
                       autocast=None)
