# Table 4a, column "A/V-MAE": the stage-2 (iteration 1) student predicts the outputs of
# separately pre-trained uni-modal MAEs (Audio-MAE + Video-MAE: fusion_none.py, no fusion, no
# contrast; train it first) instead of MAViL's fused tokens.
_base_ = ['../stage2_iter1.py']

model = dict(
    target=dict(
        target_type='A/V-MAE',
        teacher_config='configs/mavil/ablations/fusion_none.py',
        teacher_ckpt='work_dirs/fusion_none/epoch_20.pth'))
