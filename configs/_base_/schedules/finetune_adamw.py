# Shared fine-tuning optimisation (Table 9): AdamW (0.9, 0.95), weight decay 1e-5, no gradient
# clipping, lr_eff = base lr x global batch / 256, warm-up then half-cycle cosine to 1e-6.
# Per-dataset files set lr, batch, warm-up and epochs. No weight decay on norms, biases and
# [CLS]; optional layer-wise lr decay (Table 9 lists none: 1.0) and per-module multipliers
# (the A+V configs halve the video encoder's lr, App. B.3).
custom_imports = dict(
    imports=['mavil.engine.optim_constructors', 'mavil.datasets.samplers', 'mavil.evaluation'],
    allow_failed_imports=False)

auto_scale_lr = dict(base_batch_size=256, enable=True)
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='FinetuneOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=1e-5),
    paramwise_cfg=dict(layer_decay=1.0, module_lr_mult=dict()),
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
