# Pre-training schedule (Table 9): AdamW (0.9, 0.95), wd 1e-5, base lr 2e-4 x batch / 256,
# 4 warm-up epochs then half-cycle cosine to 1e-6, 20 epochs, global batch 512. The scheduler
# bounds follow `warmup_epochs` and train_cfg.max_epochs (mavil/engine/schedules.py), so
# `--cfg-options train_cfg.max_epochs=25` (Table 5c) stretches the cosine.
total_batch_size = 512  # per-GPU batch x GPUs x gradient accumulation
# with accumulation, contrast the whole 512 anyway (two-pass step; None = auto, see README)
exact_contrast = None
auto_scale_lr = dict(base_batch_size=256, enable=True)

optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel per tensor (CPU and CUDA); 0.29x the default's time on this project's
    # 2-core CPU under load (benchmarks/levers.py adamw)
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.95), weight_decay=1e-5, fused=True),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'cls_token': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
            'bottlenecks': dict(decay_mult=0.0),
        }),
)
warmup_epochs = 4
param_scheduler = [  # [0, warmup_epochs) and [warmup_epochs, max_epochs): derived at build
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)
