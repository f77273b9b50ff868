# The ONE definition of the fine-tuning pipelines (App. B.3, Table 9); the dataset bases
# (ft_audioset_20k.py, ft_vggsound.py, ft_esc50.py, ft_spc.py) pick their entry of
# `ft_pipelines` and differ only in the Table 9 audio settings passed here, paths and loaders.
#
# Audio, as AST / AudioMAE's fine-tuning data (the "standard pipeline" the paper cites):
#   16 kHz -> 128-bin Kaldi log-mel fbank -> random roll in time (R) -> pad / crop to the
#   input length -> SpecAugment on the LOG-MEL fbank (masked cells 0, as torchaudio's masking
#   in AST / AudioMAE) -> (x - mean) / (2 std) -> noise at 20 dB SNR (N; VGGSound, SPC).
#   Mixup (Table 9 "0.5") as AudioMAE: audio-only training mixes a second clip's WAVEFORM into
#   half the samples (WaveformMixup, lam ~ Beta(10, 10), AST / AudioMAE dataset.py), and the
#   model mixes every batch (BatchMixup, alpha 0.5: AudioMAE's timm Mixup on the normalised
#   fbank). Audio+video and video training: batch mixup only (the waveform mix would pair
#   the partner's labels with the sample's frames).
# Video: 8 frames at 2 fps; training: random resized crop (0.08-1) + flip, and for video and
#   A+V fine-tuning the standard video-classification augmentation of MAE-ST (the paper's
#   [3]): RandAugment m7 n4 and random erasing 0.25 (label smoothing 0.1 is in the model).
#   Validation: one centre clip; testing: 10 uniformly spaced clips, averaged (Table 10).


def _audio(train, *, mean, std, target_length=1024, time_mask=192, freq_mask=48,
           noise=False, waveform_mixup=False):
    steps = [dict(type='AudioResample', sample_rate=16000)]
    if train and waveform_mixup:
        steps.append(dict(type='WaveformMixup', prob=0.5, alpha=10.0))
    steps.append(dict(type='KaldiFbank', num_mel_bins=128))
    if train:
        steps.append(dict(type='AudioRandomRoll'))  # R
    steps.append(dict(type='AudioPadCrop', target_length=target_length))
    if train:
        steps.append(dict(type='SpecAugment', time_mask=time_mask, freq_mask=freq_mask))
    steps.append(dict(type='AudioNormalize', mean=mean, std=std))
    if train and noise:
        steps.append(dict(type='AudioAddNoise', snr_db=20.0))  # N
    return steps


def _video(train):
    if not train:
        return [dict(type='VideoResize', short_side=224), dict(type='VideoCenterCrop', size=224)]
    return [dict(type='VideoRandomResizedCrop', size=224, scale=(0.08, 1.0)),
            dict(type='VideoRandomFlip', prob=0.5),
            dict(type='VideoRandAugment', num_ops=4, magnitude=7),
            dict(type='VideoRandomErasing', prob=0.25)]


def _pipeline(modalities, *, train, num_clips=None, min_duration=1.0, mixup=True, audio):
    load = dict(type='LoadAudioVideo', backend='pyav', modalities=modalities,
                min_duration=min_duration)
    if 'video' in modalities:
        load['clip_sampler'] = (dict(num_frames=8, fps=2.0) if train else dict(
            num_frames=8, fps=2.0, test_mode=True, num_clips=num_clips))
    waveform_mixup = mixup and modalities == ('audio', )
    return ([load] + (_audio(train, waveform_mixup=waveform_mixup, **audio)
                      if 'audio' in modalities else [])
            + (_video(train) if 'video' in modalities else [])
            + [dict(type='PackAVInputs', modalities=modalities)])


def _pipelines(min_duration=1.0, mixup=True, **audio):
    """Train / validation (1 clip) / test (10 clips) pipelines per modality setting."""
    av, a, v = ('audio', 'video'), ('audio', ), ('video', )
    kw = dict(min_duration=min_duration, mixup=mixup, audio=audio)
    return dict(
        train=_pipeline(av, train=True, **kw),
        val=_pipeline(av, train=False, num_clips=1, **kw),
        test=_pipeline(av, train=False, num_clips=10, **kw),
        audio_train=_pipeline(a, train=True, **kw),
        audio_test=_pipeline(a, train=False, **kw),  # validation and test
        video_train=_pipeline(v, train=True, **kw),
        video_val=_pipeline(v, train=False, num_clips=1, **kw),
        video_test=_pipeline(v, train=False, num_clips=10, **kw))


# Table 9 columns: normalisation statistics, input length (ESC-50 5 s, SPC 1 s), SpecAugment
# time / frequency widths, noise (N), mixup (none for ESC-50)
ft_pipelines = dict(
    audioset=_pipelines(mean=-4.268, std=4.569),
    vggsound=_pipelines(mean=-5.189, std=3.260, noise=True),
    esc50=_pipelines(mean=-6.627, std=5.359, target_length=512, time_mask=96, freq_mask=24,
                     mixup=False),
    spc=_pipelines(mean=-6.702, std=5.448, target_length=128, time_mask=48, freq_mask=48,
                   noise=True, min_duration=0.5),
)

# Loaders shared by the dataset bases (per-GPU batch sizes: Table 9 global batch / GPUs)
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mavil.av_collate'))  # sets unreadable clips aside (counted)
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mavil.av_collate'))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
