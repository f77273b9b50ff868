# AS-2M fine-tuning schedule (Table 9): base lr 1e-4 (ViT-S 5e-4, ViT-L 1e-4), global batch 512,
# 20 warm-up epochs, 100 epochs of 200K weighted samples (~10 passes over AS-2M).
_base_ = ['./finetune_adamw.py']

total_batch_size = 512
optim_wrapper = dict(optimizer=dict(lr=1e-4))
warmup_epochs = 20
train_cfg = dict(max_epochs=100, val_interval=5)
