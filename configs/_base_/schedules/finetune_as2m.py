# AS-2M fine-tuning schedule (Table 9): base lr 1e-4 (ViT-S 5e-4, ViT-L 1e-4), global
# batch 512, 20 warm-up epochs, 100 epochs of 200K weighted samples (~10 passes over AS-2M).
_base_ = ['./finetune_adamw.py']

total_batch_size = 512  # per-GPU batch x GPUs x gradient accumulation
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=80, eta_min=1e-6, by_epoch=True, begin=20,
         end=100, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
