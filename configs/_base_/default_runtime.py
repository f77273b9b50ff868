default_scope = 'mavil'
runner_type = 'MAViLRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# unreadable clips are skipped, logged and counted; the run stops past this ratio
custom_hooks = [dict(type='SkippedSampleHook', max_skip_ratio=0.01, min_samples=200)]
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # timeout: s a rank waits in a collective (default 300)
)
log_processor = dict(window_size=10, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
unsafe_load = False  # full unpickling of checkpoints (load_from and resume); trusted files only
randomness = dict(seed=0, deterministic=False)
