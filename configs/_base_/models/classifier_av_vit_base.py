# MAViL audio+video fine-tuning classifier, ViT-B (Sec. 4.3, App. B.3): the pre-trained audio
# and video encoders, a NEW 2-layer vanilla fusion Transformer on top of both, the fused audio
# and video tokens mean-pooled separately and concatenated -> LayerNorm -> linear head.
# Initialise from a MAViL checkpoint (stage 1 or 2; only encoder weights are taken):
#   python tools/train.py CONFIG --cfg-options load_from=work_dirs/stage2_iter3/epoch_20.pth
# Dataset-dependent parts (classes, loss, mixup) are set in configs/finetune/*.py (Table 9).
model = dict(
    type='AVClassifier',
    modalities=('audio', 'video'),
    data_preprocessor=dict(type='AVDataPreprocessor', modalities=('audio', 'video')),
    audio_encoder=dict(
        type='AudioViT',
        arch='base',
        input_size=(1024, 128),  # fbank frames x mel bins; ESC-50: 512, SPC: 128 frames
        patch_size=(16, 16),
        drop_path_rate=0.1),
    video_encoder=dict(
        type='VideoViT',
        arch='base',
        input_size=(8, 224, 224),
        patch_size=(2, 16, 16),
        drop_path_rate=0.1),
    fusion=dict(type='JointFusion', depth=2, num_heads=12, drop_path_rate=0.1),  # width: encoders'
    head=dict(type='ClsHead', num_classes=527),
    loss=dict(type='SoftBCELoss'),  # BCE: multi-label data or mixup (Table 9)
    batch_augment=dict(type='BatchMixup', alpha=0.5),  # mixup 0.5 (Table 9)
    # fine-tuning masking (App. B.3): 20% of time rows + 20% of frequency columns (audio),
    # 20% of frames + 20% of spatial positions (video), dropped before the encoders
    ft_masking=dict(
        audio=dict(mode='time_freq', ratio=0.2), video=dict(mode='space_time', ratio=0.2)),
)
