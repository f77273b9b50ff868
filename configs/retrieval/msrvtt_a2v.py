# MSR-VTT audio-to-video retrieval (Sec. 4.5, Table 8): fine-tune the final stage-2 MAViL on the
# training pairs with its own objective, Eq. (6) -- masked reconstruction of a frozen teacher's
# contextualized tokens + inter/intra contrast -- then rank test videos by the cosine
# similarity of full-view uni-modal embeddings (R@1/5/10 and median rank, both directions).
#   python tools/train.py configs/retrieval/msrvtt_a2v.py      # student and teacher: stage 2
#   python tools/test.py configs/retrieval/msrvtt_a2v.py work_dirs/msrvtt_a2v/epoch_10.pth
# The student starts from the final stage-2 checkpoint (load_from) and the teacher is that same
# model, frozen (our reading: the paper does not name the teacher of this fine-tuning). The
# model is built whole for testing too, so the teacher checkpoint must exist (any compatible
# one will do: --cfg-options model.target.teacher_ckpt=PATH).
_base_ = [
    '../_base_/models/mavil_vit_base.py', '../_base_/datasets/ret_msrvtt.py',
    '../_base_/schedules/retrieval_10e.py', '../_base_/default_runtime.py',
    '../_base_/models/teacher_targets.py'
]

pretrained = 'work_dirs/stage2_iter3/epoch_20.pth'
model = dict(
    type='AVRetriever',
    target=dict(
        _base_.teacher_targets,
        _delete_=True,
        teacher_config='configs/mavil/stage2_iter3.py',
        teacher_ckpt=pretrained,
        # the stage-2 checkpoint records ITS teacher (iteration 2); this run's teacher differs
        verify_teacher=False))
load_from = pretrained
