# A laptop-CPU stage 1: the components of stage1.py at tiny sizes, 30 iterations on synthetic
# audio-video pairs (no data to download). Tests, the example plugin and quick experiments
# start from it:
#   python tools/train.py configs/mavil/stage1_tiny.py --work-dir work_dirs/stage1_tiny
_base_ = ['./stage1.py', '../_base_/models/tiny.py']

model = dict(
    audio_encoder=_base_.tiny_encoders.audio_encoder,
    # from scratch: no ViT-B image checkpoint fits a tiny encoder
    video_encoder=dict(_base_.tiny_encoders.video_encoder, init_cfg=None),
    **_base_.tiny_decoders,
    fusion=dict(depth=1, num_heads=4))
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    # stage1.py reads AudioSet files; tiny runs use synthetic pairs instead
    dataset=dict(_delete_=True, type='SyntheticAVDataset', num_samples=64,
                 audio_size=(1, 64, 32), video_size=(3, 4, 32, 32)))
total_batch_size = None
auto_scale_lr = dict(enable=False)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=30)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=10, by_epoch=False, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
