# MAViL stage 2, iteration 1 (Sec. 3.3, Fig. 2, Eq. 5-6): a re-initialised student predicts, at
# its masked positions, the frozen stage-1 teacher's fused tokens computed on the COMPLETE view
# (768-d M-Fusion targets), plus the same inter/intra contrast as stage 1; no raw-input term.
# Everything else (encoders, decoders, losses, 20-epoch schedule) is stage 1's.
#
# Teacher = the final checkpoint of `python tools/train.py configs/mavil/stage1.py` (default work
# dir work_dirs/stage1). Another location:  --cfg-options model.target.teacher_ckpt=PATH
# Table 4a columns:  model.target.target_type=M-Uni  (teacher's uni-modal outputs), or
#   model.target.target_type=A/V-MAE model.target.teacher_config=configs/mavil/ablations/fusion_none.py
#   model.target.teacher_ckpt=work_dirs/fusion_none/epoch_20.pth  (separate Audio-/Video-MAEs)
_base_ = ['./stage1.py', '../_base_/models/teacher_targets.py']

model = dict(
    target=dict(
        _base_.teacher_targets,
        _delete_=True,
        teacher_config='configs/mavil/stage1.py',
        teacher_ckpt='work_dirs/stage1/epoch_20.pth'))
