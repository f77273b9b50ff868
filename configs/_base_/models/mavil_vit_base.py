# MAViL ViT-B (Sec. 4.2, App. B.2): 12x768 encoders, 2-layer vanilla fusion, 8x512 decoders.
model = dict(
    type='MAViL',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    audio_encoder=dict(
        type='AudioViT',
        arch='base',
        input_size=(1024, 128),  # fbank frames x mel bins (10 s audio)
        patch_size=(16, 16),
        mask_ratio=0.8,
        mask_type='random',  # or 'time_freq' (Table 12b)
        attn_backend='sdpa'),
    video_encoder=dict(
        type='VideoViT',
        arch='base',
        input_size=(8, 224, 224),  # frames x height x width (4 s at 2 fps)
        patch_size=(2, 16, 16),
        mask_ratio=0.8,
        mask_type='random',  # or 'space_time' (Table 12b)
        attn_backend='sdpa'),
    fusion=dict(type='JointFusion', depth=2, num_heads=12),  # embed_dim: the encoders'
    audio_decoder=dict(type='MaskedDecoder', embed_dim=512, depth=8, num_heads=16),
    video_decoder=dict(type='MaskedDecoder', embed_dim=512, depth=8, num_heads=16),
    target=dict(type='RawTargets', norm_per_patch=False),
    rec_loss=dict(type='MaskedMSELoss', loss_weight=1.0),
    inter_loss=dict(type='InfoNCELoss', temperature=0.1, loss_weight=0.1),  # alpha
    intra_loss=dict(
        type='InfoNCELoss', temperature=1.0, loss_weight=0.01, symmetric=False),  # beta
)
