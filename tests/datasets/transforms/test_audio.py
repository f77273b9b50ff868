"""Audio transforms: resample, Kaldi fbank, pad/crop, normalise, R / N augmentation, SpecAug."""
import math

import pytest
import torch
import torchaudio

from mavil.datasets.transforms import (AUDIOSET_MEAN, AUDIOSET_STD, AudioAddNoise,
                                       AudioNormalize, AudioPadCrop, AudioRandomRoll,
                                       AudioResample, KaldiFbank, LoadAudioVideo, SpecAugment,
                                       fbank_frames)
from tests.datasets.media import make_tone


def tone(seconds=1.0, rate=16000, channels=1) -> torch.Tensor:
    return torch.from_numpy(make_tone(seconds, rate, channels))


@pytest.mark.parametrize('rate,channels', [(8000, 1), (16000, 1), (44100, 2), (48000, 2)])
def test_resample_to_16k_mono(rate, channels):
    out = AudioResample()(dict(waveform=tone(2.0, rate, channels), sample_rate=rate))
    assert out['sample_rate'] == 16000
    assert out['waveform'].shape == (1, 32000)
    # channel mean of amplitudes 0.2 and 0.4 is 0.3; the 440 Hz tone survives resampling
    amp = 0.2 if channels == 1 else 0.3
    rms = out['waveform'][:, 1000:-1000].pow(2).mean().sqrt()
    assert rms == pytest.approx(amp / math.sqrt(2), rel=0.02)


def test_resample_matches_torchaudio():
    wave = tone(1.0, 48000)
    out = AudioResample()(dict(waveform=wave.clone(), sample_rate=48000))
    assert torch.equal(out['waveform'], torchaudio.functional.resample(wave, 48000, 16000))


def test_resample_keeps_channels_when_asked():
    out = AudioResample(mono=False)(dict(waveform=tone(1.0, 16000, 2), sample_rate=16000))
    assert out['waveform'].shape == (2, 16000)


def test_fbank_equals_torchaudio_kaldi():
    wave = tone(3.0) + 0.05  # DC offset: the transform subtracts the mean first
    out = KaldiFbank()(dict(waveform=wave.clone(), sample_rate=16000))
    expected = torchaudio.compliance.kaldi.fbank(
        wave - wave.mean(), htk_compat=True, sample_frequency=16000, use_energy=False,
        window_type='hanning', num_mel_bins=128, dither=0.0, frame_shift=10, frame_length=25)
    assert out['audio'].shape == (1, 298, 128) and out['audio'].dtype == torch.float32
    assert torch.equal(out['audio'][0], expected)
    assert out['audio_frames'] == 298 == fbank_frames(48000)
    assert fbank_frames(160000) == 998


def test_fbank_mel_bins_configurable():
    out = KaldiFbank(num_mel_bins=64)(dict(waveform=tone(), sample_rate=16000))
    assert out['audio'].shape == (1, 98, 64)


def test_fbank_refuses_wrong_rate_or_channels():
    with pytest.raises(ValueError, match='expects 16000 Hz audio, got 48000 Hz .*AudioResample'):
        KaldiFbank()(dict(waveform=tone(1, 48000), sample_rate=48000, filename='x.mp4'))
    with pytest.raises(ValueError, match='mono'):
        KaldiFbank()(dict(waveform=tone(1, 16000, 2), sample_rate=16000))
    with pytest.raises(ValueError, match='shorter than one 25.0 ms fbank window'):
        KaldiFbank()(dict(waveform=torch.zeros(1, 100), sample_rate=16000))


def test_silence_is_finite():
    results = dict(waveform=torch.zeros(1, 32000), sample_rate=16000)
    for transform in (KaldiFbank(), AudioPadCrop(), AudioNormalize(), AudioAddNoise(),
                      SpecAugment()):
        results = transform(results)
        assert torch.isfinite(results['audio']).all(), type(transform).__name__


def test_silent_file_is_finite(media):
    results = LoadAudioVideo(modalities=('audio',))(dict(filename=str(media['silent'])))
    for transform in (AudioResample(), KaldiFbank(), AudioNormalize(), AudioAddNoise()):
        results = transform(results)
    assert torch.isfinite(results['audio']).all()


@pytest.mark.parametrize('target_length', [1024, 512, 128])
def test_pad_crop_lengths(target_length):
    spec = torch.randn(1, 300, 128)
    out = AudioPadCrop(target_length=target_length)(dict(audio=spec.clone()))['audio']
    assert out.shape == (1, target_length, 128)
    n = min(300, target_length)
    assert torch.equal(out[:, :n], spec[:, :n])  # 'start': kept from the beginning
    assert (out[:, n:] == 0).all()  # padded after, with pad_value


def test_crop_modes():
    spec = torch.arange(10.0).view(1, 10, 1)
    centre = AudioPadCrop(target_length=4, crop='center')(dict(audio=spec))['audio']
    assert centre.flatten().tolist() == [3, 4, 5, 6]
    torch.manual_seed(0)
    starts = {AudioPadCrop(target_length=4, crop='random')(dict(audio=spec))['audio'][0, 0, 0]
              .item() for _ in range(30)}
    assert starts <= set(range(7)) and len(starts) > 2
    with pytest.raises(ValueError, match='crop must be one of'):
        AudioPadCrop(crop='end')


def test_normalize_uses_twice_std():
    spec = torch.full((1, 4, 2), AUDIOSET_MEAN + 2 * AUDIOSET_STD)
    assert torch.allclose(AudioNormalize()(dict(audio=spec))['audio'], torch.ones(1, 4, 2))
    vgg = AudioNormalize(mean=-5.189, std=3.260)(dict(audio=torch.full((1, 1, 1), -5.189)))
    assert vgg['audio'].abs().max() < 1e-6


def test_random_roll_is_cyclic_in_time():
    spec = torch.arange(20.0).view(1, 10, 2)
    torch.manual_seed(0)
    shifts = set()
    for _ in range(20):
        out = AudioRandomRoll()(dict(audio=spec))['audio']
        shift = int(out[0, 0, 0].item() // 2)
        shift = (10 - shift) % 10
        assert torch.equal(out, torch.roll(spec, shift, dims=1))
        shifts.add(shift)
    assert len(shifts) > 3
    assert torch.equal(AudioRandomRoll(prob=0.0)(dict(audio=spec))['audio'], spec)


def test_noise_at_20db_snr():
    torch.manual_seed(0)
    spec = torch.randn(1, 1024, 128)
    noisy = AudioAddNoise(snr_db=20.0)(dict(audio=spec.clone()))['audio']
    snr = 10 * torch.log10(spec.pow(2).mean() / (noisy - spec).pow(2).mean())
    assert snr.item() == pytest.approx(20.0, abs=0.3)


def test_specaugment_masks_within_limits():
    torch.manual_seed(0)
    ones = torch.ones(1, 256, 64)
    saw_time = saw_freq = False
    for _ in range(20):
        out = SpecAugment(time_mask=48, freq_mask=12)(dict(audio=ones.clone()))['audio']
        masked_frames = (out[0] == 0).all(dim=1).sum().item()
        masked_bins = (out[0] == 0).all(dim=0).sum().item()
        assert masked_frames <= 48 and masked_bins <= 12
        saw_time |= masked_frames > 0
        saw_freq |= masked_bins > 0
    assert saw_time and saw_freq
    # masks wider than the input are clamped to it
    small = SpecAugment(time_mask=500, freq_mask=500)(dict(audio=torch.ones(1, 8, 4)))
    assert small['audio'].shape == (1, 8, 4)
    assert torch.equal(SpecAugment(time_mask=0, freq_mask=0)(dict(audio=ones))['audio'], ones)


def test_missing_key_error_names_transform():
    with pytest.raises(KeyError, match=r"AudioNormalize needs results\['audio'\] \(file a.mp4\)"):
        AudioNormalize()(dict(filename='a.mp4'))
