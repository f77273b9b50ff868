# ESC-50 fine-tuning schedule (Table 9): base lr 5e-4, global batch 64, 4 warm-up epochs, 60 epochs.
_base_ = ['./finetune_adamw.py']

optim_wrapper = dict(optimizer=dict(lr=5e-4))
