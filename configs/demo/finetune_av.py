# `make demo`, fine-tuning (Sec. 4.3, App. B.3) of a demo model on the demo's labels: VGGSound's
# single-label recipe (configs/finetune/vggsound_av.py: layer-wise lr decay 0.75, video encoder
# lr x 0.5, a new 2-layer fusion, fine-tuning masking, SpecAugment, batch mixup 0.5, label
# smoothing 0.1, RandAugment + random erasing) at the demo's size (configs/demo/stage1.py's
# encoders, 4 s clips, 64 x 64 frames, 8 classes) and CPU budget.
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
# SpecAugment runs after AudioNormalize here (the decoded clips the demo trains on are
# normalised), masking with the value a log-mel 0 normalises to: the same cells as the
# paper's order (mask, then normalise).
log_mel_zero = (0.0 - audio_mean) / (2 * audio_std)
clip = dict(num_frames=8, fps=2.0)
tiny_arch = dict(_delete_=True, embed_dim=128, depth=4, num_heads=4)
model = dict(
    audio_encoder=dict(arch=tiny_arch, input_size=(400, 64)),
    video_encoder=dict(arch=tiny_arch, input_size=(8, 64, 64)),
    fusion=dict(num_heads=4),
    # Demo-size setting: the head's bias starts at the class prior (sigmoid = 1 / 8) instead of
    # MAE's zero. With BCE and a zero bias, the first gradients push every logit down for
    # every clip; at this size AdamW does that through the features (all weight rows align,
    # every clip's pooled feature becomes one shared vector) and the classifier stays at
    # chance, even on its training split (docs/demo.md, "Fine-tuning").
    head=dict(num_classes=num_classes, bias_init='prior'))


def _pipelines(modalities):
    """Train / test pipelines of a modality setting: loading = the test pipeline's steps (the
    demo trains from the clips decoded once with them: mavil/demo/stages.py), then the random
    steps."""
    load = dict(type='LoadAudioVideo', backend='decord', modalities=modalities)
    if 'video' in modalities:
        load['clip_sampler'] = clip
    audio_load = [
        dict(type='AudioResample', sample_rate=16000),
        dict(type='KaldiFbank', num_mel_bins=64),
        dict(type='AudioPadCrop', target_length=400),
        dict(type='AudioNormalize', mean=audio_mean, std=audio_std),
    ] if 'audio' in modalities else []
    # Table 9's SpecAugment widths (192 of 1024 frames, 48 of 128 bins) scaled to 400 x 64
    audio_augment = [
        dict(type='AudioRandomRoll'),
        dict(type='SpecAugment', time_mask=75, freq_mask=24, mask_value=log_mel_zero),
    ] if 'audio' in modalities else []
    video_augment = [
        dict(type='VideoRandomResizedCrop', size=64, scale=(0.08, 1.0)),
        dict(type='VideoRandomFlip', prob=0.5),
        dict(type='VideoRandAugment', num_ops=4, magnitude=7),
        dict(type='VideoRandomErasing', prob=0.25),
    ] if 'video' in modalities else []
    video_test = [dict(type='VideoResize', short_side=64),
                  dict(type='VideoCenterCrop', size=64)] if 'video' in modalities else []
    pack = dict(type='PackAVInputs', modalities=modalities)
    test_load = dict(load, clip_sampler=dict(clip, test_mode=True)) if 'video' in modalities \
        else load  # one centred clip: a demo clip is one 8-frame window
    return dict(train=[load, *audio_load, *audio_augment, *video_augment, pack],
                test=[test_load, *audio_load, *video_test, pack])


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
train_cfg = dict(max_epochs=15, val_interval=1000)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1000, max_keep_ckpts=1))
log_processor = dict(by_epoch=True)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
