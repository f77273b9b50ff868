# `make demo`, stage 1: a tiny MAViL pre-trained on the built-in demo clips
# (mavil/demo/generator.py) on a 2-core CPU in a few minutes. Same components and losses as
# configs/mavil/stage1.py; sizes fit the demo data (4 s clips, 64x64 frames); schedule by
# iterations; fp32 (at this width bf16 autocast gains nothing on CPU).
_base_ = ['../mavil/stage1.py']

data_root = 'data/demo'
audio_mean, audio_std = -2.0, 3.4  # fbank statistics of the demo clips (AudioNormalize)
clip = dict(num_frames=8, fps=2.0)  # the whole 4 s clip, as in the paper's 8 frames @ 2 fps
# The clips decoded once into a clip cache (mavil/demo/run.py builds it in its work dir; by
# hand: python tools/data/build_cache.py configs/demo/stage1.py work_dirs/demo/cache
# --frame-format raw); LoadCachedClip gives what LoadAudioVideo gives from the files.
cache = 'work_dirs/demo/cache'
tiny_arch = dict(_delete_=True, embed_dim=128, depth=4, num_heads=4)
# Tuned for a few hundred CPU iterations: 70 % masking and alpha 0.5 (paper: 80 %, 0.1) make the
# contrast learn the audio-visual pairing sooner (in-batch contrast accuracy 0.47 vs 0.25 after
# 400 iterations, measured on the demo clips); the paper's values work too, more slowly.
model = dict(
    audio_encoder=dict(arch=tiny_arch, input_size=(400, 64), patch_size=(16, 16), mask_ratio=0.7),
    video_encoder=dict(  # from scratch (init_cfg=None): no image checkpoint fits this size
        arch=tiny_arch, input_size=(8, 64, 64), patch_size=(2, 16, 16), mask_ratio=0.7,
        init_cfg=None),
    fusion=dict(depth=1, num_heads=4),
    audio_decoder=dict(embed_dim=64, depth=2, num_heads=4),
    video_decoder=dict(embed_dim=64, depth=2, num_heads=4),
    # Demo-only: Eq. 2's cosine on batch-standardised embeddings (InfoNCELoss docstring). A
    # 4-block encoder trained on reconstruction drifts within ~25 iterations to pooled
    # embeddings that all point one way (mean pairwise cosine 0.91 at init -> 0.998), where
    # Eq. 2's logits barely differ and the contrast sits at ln B (docs/demo.md, "Why the
    # contrast did not start"). The paper's configs (configs/mavil/) keep it off.
    inter_loss=dict(loss_weight=0.5, batch_standardize=True),
)
# The paper's pre-training pipelines (pretrain_pipelines.py) read from the clip cache, without
# the roll, at the demo's sizes: per transform type, the settings that differ.
demo_sizes = dict(
    KaldiFbank=dict(num_mel_bins=64),
    AudioPadCrop=dict(target_length=400),
    AudioNormalize=dict(mean=audio_mean, std=audio_std),
    VideoRandomResizedCrop=dict(size=64, scale=(0.5, 1.0)),
    VideoResize=dict(short_side=64),
    VideoCenterCrop=dict(size=64))
train_pipeline = [dict(type='LoadCachedClip', cache=cache, clip_sampler=clip)] + [
    dict(step, **demo_sizes.get(step.type, {})) for step in _base_.train_pipeline[1:]
    if step.type != 'AudioRandomRoll']
test_pipeline = [  # used by the demo's evaluation (mavil/demo/evaluate.py)
    dict(type='LoadCachedClip', cache=cache, clip_sampler=dict(clip, test_mode=True))] + [
    dict(step, **demo_sizes.get(step.type, {})) for step in _base_.test_pipeline[1:]]
train_dataset = dict(
    type='AVDataset',
    ann_file=f'{data_root}/annotations.csv',
    data_prefix=data_root,
    split='train',
    pipeline=train_pipeline)
train_dataloader = dict(  # reading a cached 64 x 64 clip + crop + flip: cheap in-process
    batch_size=32, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(train_dataset, _delete_=True))
test_dataset = dict(train_dataset, split='test', pipeline=test_pipeline, test_mode=True)

total_batch_size = None  # no accumulation: one step per batch
auto_scale_lr = dict(enable=False)
# one fused AdamW call per distinct setting, not per tensor (same updates; engine/param_groups.py)
optim_wrapper = dict(constructor='MergedGroupsOptimWrapperConstructor', optimizer=dict(lr=1e-3))
max_iters = 200
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, T_max=max_iters - 20,
         eta_min=1e-5),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1, save_last=True))
custom_hooks = [dict(type='SkippedSampleHook', max_skip_ratio=0.0, min_samples=0)]
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
