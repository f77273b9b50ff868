# Retrieval fine-tuning (Sec. 4.5: "fine-tune MAViL using the audio-video pairs in the training
# sets with Eq. (6)"). The paper gives no hyper-parameters for it; ours: the pre-training
# optimiser (pretrain_20e.py, Table 9 PT column) at half its base lr, global batch 256,
# 1 warm-up epoch, 10 epochs, evaluated every epoch.
_base_ = ['./pretrain_20e.py']

total_batch_size = 256
optim_wrapper = dict(optimizer=dict(lr=1e-4))
warmup_epochs = 1
train_cfg = dict(max_epochs=10, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
