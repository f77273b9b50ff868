# The ONE definition of the pre-training sample (App. B.1, Table 9 PT column); audioset_pretrain.py
# and vggsound_pretrain.py pick their entry of `pretrain_pipelines` (they differ only in the
# normalisation statistics).
# Training: 10 s of audio -> 1024 x 128 Kaldi fbank, randomly rolled in time (R), normalised;
# a 4-second clip of 8 frames at 2 fps from a random start (looping if the video is shorter),
# multi-scale random resized crop (scale 0.2-1.0) to 224 and horizontal flip. No mixup /
# SpecAugment in pre-training (App. B.3).
# Test (inference on single files: mavil.apis extract_features, reconstruction figures): one
# deterministic clip (test_mode), no roll, resize + centre crop.


def _pretrain_pipelines(audio_mean, audio_std):
    fbank = [dict(type='AudioResample', sample_rate=16000),
             dict(type='KaldiFbank', num_mel_bins=128)]  # 25 ms windows, 10 ms hop (defaults)
    norm = dict(type='AudioNormalize', mean=audio_mean, std=audio_std)
    return dict(
        train=[
            # PyAV: ~1.5x the clips/s of decord here (benchmarks/data_throughput.py)
            dict(type='LoadAudioVideo', backend='pyav',
                 clip_sampler=dict(num_frames=8, fps=2.0)),
            *fbank,
            dict(type='AudioRandomRoll'),  # R
            dict(type='AudioPadCrop', target_length=1024),
            norm,
            dict(type='VideoRandomResizedCrop', size=224, scale=(0.2, 1.0)),
            dict(type='VideoRandomFlip', prob=0.5),
            dict(type='PackAVInputs'),
        ],
        test=[
            dict(type='LoadAudioVideo', backend='pyav',
                 clip_sampler=dict(num_frames=8, fps=2.0, test_mode=True)),
            *fbank,
            dict(type='AudioPadCrop', target_length=1024),
            norm,
            dict(type='VideoResize', short_side=224),
            dict(type='VideoCenterCrop', size=224),
            dict(type='PackAVInputs'),
        ])


# Table 9 normalisation statistics
pretrain_pipelines = dict(
    audioset=_pretrain_pipelines(-4.268, 4.569),
    vggsound=_pretrain_pipelines(-5.189, 3.260),
)

train_dataloader = dict(
    batch_size=8,  # per GPU: 512 in total on 64 GPUs (Table 9)
    num_workers=8,  # per GPU; benchmarks/data_throughput.py measures clips/s per worker
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'),  # sets unreadable clips aside (counted)
)
