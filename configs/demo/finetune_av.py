# `make demo`, fine-tuning (Sec. 4.3, App. B.3) of a demo model on the demo's labels:
# configs/finetune/vggsound_av.py's model (pre-trained encoders, mean pooling, a new 2-layer
# fusion for audio+video, video lr x 0.5, layer-wise lr decay 0.75, AdamW, warm-up + cosine)
# at the demo's size (configs/demo/stage1.py's encoders, 4 s clips, 64 x 64 frames, 8 classes)
# with a demo-size training setting (below) that learns within the CPU budget.
#   python tools/train.py configs/demo/finetune_av.py \
#       --cfg-options load_from=work_dirs/demo/seed_0/stage1/iter_200.pth
# For your own labels: copy it, point data_root / ann_file at build_annotations.py's CSV, set
# num_classes, audio_mean / audio_std (tools/data/compute_audio_stats.py) and the sizes of the
# model you pre-trained (README "Fine-tune on your own labels").
_base_ = ['../finetune/vggsound_av.py']

data_root = 'data/demo'
ann_file = f'{data_root}/annotations.csv'
num_classes = 8
audio_mean, audio_std = -2.0, 3.4  # as configs/demo/stage1.py (the encoders saw these inputs)
clip = dict(num_frames=8, fps=2.0)
tiny_arch = dict(_delete_=True, embed_dim=128, depth=4, num_heads=4)
# Demo-size setting (the paper's values stay in configs/finetune/; docs/demo.md, "Fine-tuning"):
# - head norm 'batch' (MAE's linear-probe BatchNorm) instead of LayerNorm: the mean-pooled
#   tokens of every clip share one large vector (0.87-0.998 of the squared norm after a
#   LayerNorm), the clip-specific part barely reaches the linear layer, and from scratch the
#   audio head stayed at chance, even on its training split, for 20 epochs. BatchNorm
#   centres the shared vector away across the clips of a batch.
# - no mixup, label smoothing, fine-tuning masking, drop path, SpecAugment, random roll (it
#   breaks a melody's note order), RandAugment / 0.08-scale crops / random erasing: with
#   mixup, masking, drop path, roll and SpecAugment the audio head reached 0.17 held-out
#   in 7 epochs of 30 steps instead of 0.30.
# - cross-entropy: single-label data (AudioMAE's ESC-50 / SPC loss); BCE with the prior bias
#   learns as well here.
model = dict(
    audio_encoder=dict(arch=tiny_arch, input_size=(400, 64), drop_path_rate=0.0),
    video_encoder=dict(arch=tiny_arch, input_size=(8, 64, 64), drop_path_rate=0.0),
    fusion=dict(num_heads=4, drop_path_rate=0.0),
    head=dict(num_classes=num_classes, norm='batch'),
    loss=dict(_delete_=True, type='SoftCrossEntropyLoss'),
    batch_augment=None,
    label_smoothing=0.0,
    ft_masking=None)


def _pipelines(modalities):
    """Train / test pipelines of a modality setting: loading = the test pipeline's steps (the
    demo trains from the clips decoded once with them: mavil/demo/stages.py), then the random
    steps (a horizontal flip keeps the object's height path and shape)."""
    load = dict(type='LoadAudioVideo', backend='decord', modalities=modalities)
    if 'video' in modalities:
        load['clip_sampler'] = clip
    audio_load = [
        dict(type='AudioResample', sample_rate=16000),
        dict(type='KaldiFbank', num_mel_bins=64),
        dict(type='AudioPadCrop', target_length=400),
        dict(type='AudioNormalize', mean=audio_mean, std=audio_std),
    ] if 'audio' in modalities else []
    # frames to 64 x 64 (identities on the demo's clips), in training also a random flip
    video_size = [dict(type='VideoResize', short_side=64),
                  dict(type='VideoCenterCrop', size=64)] if 'video' in modalities else []
    video_flip = [dict(type='VideoRandomFlip', prob=0.5)] if 'video' in modalities else []
    pack = dict(type='PackAVInputs', modalities=modalities)
    test_load = dict(load, clip_sampler=dict(clip, test_mode=True)) if 'video' in modalities \
        else load  # one centred clip: a demo clip is one 8-frame window
    return dict(train=[load, *audio_load, *video_size, *video_flip, pack],
                test=[test_load, *audio_load, *video_size, pack])


pipelines = dict(av=_pipelines(('audio', 'video')), audio=_pipelines(('audio', )),
                 video=_pipelines(('video', )))
train_pipeline, test_pipeline = pipelines['av']['train'], pipelines['av']['test']
train_dataset = dict(type='AVDataset', ann_file=ann_file, data_prefix=data_root, split='train',
                     pipeline=train_pipeline)
test_dataset = dict(train_dataset, split='test', test_mode=True, pipeline=test_pipeline)
train_dataloader = dict(
    batch_size=32, num_workers=2,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(train_dataset, _delete_=True))
val_dataloader, val_cfg, val_evaluator = None, None, None  # the held-out split is for testing
test_dataloader = dict(
    batch_size=32, num_workers=2, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mavil.av_collate'), dataset=dict(test_dataset, _delete_=True))
test_evaluator = dict(topk=(1, ))

# schedule: 960 clips / batch 32 = 30 steps per epoch; warm-up 1/15 of training as 4 of 60
total_batch_size = 32
auto_scale_lr = dict(enable=False)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
warmup_epochs = 1
train_cfg = dict(max_epochs=15, val_interval=1000)  # `make demo`: 7 (mavil/demo/run.py)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1000, max_keep_ckpts=1))
log_processor = dict(by_epoch=True)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
