# VGGSound fine-tuning schedule (Table 9): base lr 2e-4, global batch 256, 4 warm-up epochs,
# 60 epochs of 200K weighted samples.
_base_ = ['./finetune_adamw.py']

total_batch_size = 256  # per-GPU batch x GPUs x gradient accumulation
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=4,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=56, eta_min=1e-6, by_epoch=True, begin=4,
         end=60, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=1)
