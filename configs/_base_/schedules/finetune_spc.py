# Speech Commands fine-tuning schedule (Table 9): base lr 1e-3, global batch 256, 1 warm-up
# epoch, 10 epochs.
_base_ = ['./finetune_adamw.py']

total_batch_size = 256  # per-GPU batch x GPUs x gradient accumulation
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=9, eta_min=1e-6, by_epoch=True, begin=1,
         end=10, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
