# Speech Commands fine-tuning schedule (Table 9): base lr 1e-3, global batch 256, 1 warm-up
# epoch, 10 epochs.
_base_ = ['./finetune_adamw.py']

total_batch_size = 256
warmup_epochs = 1
train_cfg = dict(max_epochs=10)
