# AS-20K fine-tuning schedule (Table 9): base lr 1e-3 (ViT-S 2e-3, ViT-L 5e-4), global batch 64,
# 4 warm-up epochs, 60 epochs: finetune_adamw.py's defaults.
_base_ = ['./finetune_adamw.py']
