# Synthetic audio-video pairs (random patterns): a stand-in until a real annotation file is
# configured; the real dataset plugs in through the same `train_dataloader.dataset` key.
train_dataloader = dict(
    batch_size=8,  # per GPU
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),  # sets unreadable clips aside (counted)
    dataset=dict(
        type='SyntheticAVDataset',
        num_samples=4096,
        audio_size=(1, 1024, 128),
        video_size=(3, 8, 224, 224)),
)
