# A laptop-CPU version of gated_fusion_stage1.py (tiny sizes, 30 iterations on synthetic data):
#   PYTHONPATH=projects/example_plugin python tools/train.py \
#       projects/example_plugin/configs/tiny_gated_fusion.py --work-dir work_dirs/tiny_gated
_base_ = ['./gated_fusion_stage1.py']

tiny_arch = dict(_delete_=True, embed_dim=64, depth=2, num_heads=4)
model = dict(
    audio_encoder=dict(arch=tiny_arch, input_size=(64, 32), patch_size=(8, 8)),
    video_encoder=dict(arch=tiny_arch, input_size=(4, 32, 32), patch_size=(2, 8, 8)),
    fusion=dict(depth=1, num_heads=4),
    audio_decoder=dict(embed_dim=32, depth=1, num_heads=4),
    video_decoder=dict(embed_dim=32, depth=1, num_heads=4),
)
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
