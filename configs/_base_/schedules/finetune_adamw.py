# Shared fine-tuning optimisation (Table 9): AdamW (0.9, 0.95), weight decay 1e-5, no gradient
# clipping, lr_eff = base lr x global batch / 256, `warmup_epochs` of linear warm-up then a
# half-cycle cosine to 1e-6 ending at train_cfg.max_epochs (the bounds are derived from these
# two numbers when the runner is built: mavil/engine/schedules.py). The per-dataset files set
# only lr, global batch, warm-up / epochs and validation interval.
# No weight decay on norms, biases and [CLS]. Layer-wise lr decay 0.75: Table 9 lists none, the
# value is that of the fine-tuning recipes MAViL follows for ViT-B (MAE's ViT-B fine-tuning,
# AudioMAE's main_finetune_as.py default --layer_decay 0.75). Per-module lr multipliers: the
# A+V configs halve the video encoder's lr (App. B.3).
custom_imports = dict(
    imports=['mavil.engine.optim_constructors', 'mavil.datasets.samplers', 'mavil.evaluation'],
    allow_failed_imports=False)

total_batch_size = 64  # per-GPU batch x GPUs x gradient accumulation
auto_scale_lr = dict(base_batch_size=256, enable=True)
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='FinetuneOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=1e-5),
    paramwise_cfg=dict(layer_decay=0.75, module_lr_mult=dict()),
)
warmup_epochs = 4
param_scheduler = [  # [0, warmup_epochs) and [warmup_epochs, max_epochs)
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
