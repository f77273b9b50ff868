# VGGSound fine-tuning schedule (Table 9): base lr 2e-4, global batch 256, 4 warm-up epochs,
# 60 epochs of 200K weighted samples.
_base_ = ['./finetune_adamw.py']

total_batch_size = 256
optim_wrapper = dict(optimizer=dict(lr=2e-4))
