# `make demo`, video-only fine-tuning: configs/demo/finetune_av.py with the video encoder alone
# (as configs/finetune/vggsound_video.py to vggsound_av.py: no fusion, no video lr multiplier).
_base_ = ['./finetune_av.py']

model = dict(
    modalities=('video', ),
    data_preprocessor=dict(modalities=('video', )),
    audio_encoder=None,
    fusion=None)
optim_wrapper = dict(paramwise_cfg=dict(module_lr_mult=dict(_delete_=True)))
train_pipeline = {{_base_.pipelines.video.train}}
test_pipeline = {{_base_.pipelines.video.test}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
