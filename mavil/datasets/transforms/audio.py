"""Audio transforms: waveform -> normalised Kaldi fbank, plus training augmentation.

Pipeline order (App. B.1 and Table 9)::

    LoadAudioVideo             results['waveform'] [C, S] at any rate
    AudioResample              -> [1, S] mono at 16 kHz
    KaldiFbank                 -> results['audio'] [1, frames, num_mel_bins] (log-mel)
    AudioRandomRoll   (train)  R: cyclic roll in time, before padding so only real frames roll
    AudioPadCrop               -> [1, target_length, num_mel_bins]
    SpecAugment       (fine-tune) time / frequency masking of the log-mel fbank, e.g. 192 / 48
    AudioNormalize             (x - mean) / (2 * std) with the dataset's statistics
    AudioAddNoise     (train)  N: Gaussian noise at 20 dB SNR on the spectrogram

Spectrogram transforms act on ``results['audio']`` ``[..., T, F]`` and use torch's global RNG
(seeded per data-loader worker by PyTorch). No size is fixed here: target length and mel
bins come from the config.
"""
from typing import Tuple

import torch
import torchaudio

from mavil.registry import TRANSFORMS
from .base import BaseTransform

AUDIOSET_MEAN = -4.268  # Table 9
CACHED_FBANK = 'cached_fbank'  # set by LoadCachedClip: the settings of the fbank it loaded


def _check_cached_fbank(transform, results: dict, **wanted) -> None:
    """Raise unless the cached fbank in ``results`` was computed with ``wanted`` settings."""
    cached = results[CACHED_FBANK]
    differ = {k: (cached.get(k), v) for k, v in wanted.items() if cached.get(k) != v}
    if differ:
        raise ValueError(f"{type(transform).__name__}: the clip cache holds an fbank computed "
                         f"with other settings (cache vs this step: {differ}) for "
                         f"{results.get('filename')}; rebuild the cache for this pipeline, or "
                         "with --audio pcm16")
AUDIOSET_STD = 4.569


@TRANSFORMS.register_module()
class AudioResample(BaseTransform):
    """Down-mix to mono (channel mean) and resample with ``torchaudio.functional.resample``.

    Args:
        sample_rate: target rate in Hz.
        mono: average the channels into one.
    """

    def __init__(self, *, sample_rate: int = 16000, mono: bool = True) -> None:
        self.sample_rate = sample_rate
        self.mono = mono

    def transform(self, results: dict) -> dict:
        if CACHED_FBANK in results and 'waveform' not in results:
            _check_cached_fbank(self, results, sample_rate=self.sample_rate)
            return results  # a cached fbank of audio at this rate: nothing left to do
        waveform = self.require(results, 'waveform')  # [C, S]
        rate = int(self.require(results, 'sample_rate'))
        if waveform.ndim != 2:
            raise ValueError(f'AudioResample expects a [C, S] waveform, got '
                             f'{tuple(waveform.shape)} ({results.get("filename")})')
        if self.mono and waveform.shape[0] > 1:
            waveform = waveform.mean(dim=0, keepdim=True)  # [1, S]
        if rate != self.sample_rate:
            waveform = torchaudio.functional.resample(waveform, rate, self.sample_rate)
        results['waveform'] = waveform.contiguous()
        results['sample_rate'] = self.sample_rate
        return results


@TRANSFORMS.register_module()
class KaldiFbank(BaseTransform):
    """Kaldi-compatible log-mel filterbank of the mean-subtracted waveform (AST / Audio-MAE).

    Calls ``torchaudio.compliance.kaldi.fbank`` with a Hanning window, ``htk_compat=True``,
    no energy term and no dither. Silence gives finite values (Kaldi floors the energies).

    Args:
        sample_rate: rate the waveform must have (put :class:`AudioResample` first).
        num_mel_bins: mel bands (F).
        frame_length: window length in ms.
        frame_shift: hop in ms.
        window_type: Kaldi window name.
    """

    def __init__(self, *, sample_rate: int = 16000, num_mel_bins: int = 128,
                 frame_length: float = 25.0, frame_shift: float = 10.0,
                 window_type: str = 'hanning') -> None:
        self.sample_rate = sample_rate
        self.num_mel_bins = num_mel_bins
        self.frame_length = frame_length
        self.frame_shift = frame_shift
        self.window_type = window_type

    def transform(self, results: dict) -> dict:
        if CACHED_FBANK in results and 'waveform' not in results:
            _check_cached_fbank(self, results, sample_rate=self.sample_rate,
                                num_mel_bins=self.num_mel_bins, frame_length=self.frame_length,
                                frame_shift=self.frame_shift, window_type=self.window_type)
            return results  # LoadCachedClip read this very fbank from the cache
        waveform = self.require(results, 'waveform')
        rate = self.require(results, 'sample_rate')
        name = results.get('filename', 'waveform')
        if rate != self.sample_rate:
            raise ValueError(f'KaldiFbank expects {self.sample_rate} Hz audio, got {rate} Hz '
                             f'({name}); add AudioResample before it')
        if waveform.ndim != 2 or waveform.shape[0] != 1:
            raise ValueError(f'KaldiFbank expects mono [1, S] audio, got '
                             f'{tuple(waveform.shape)} ({name}); add AudioResample(mono=True)')
        window = int(self.sample_rate * self.frame_length / 1000)
        if waveform.shape[1] < window:
            raise ValueError(f'{name}: {waveform.shape[1]} samples are shorter than one '
                             f'{self.frame_length} ms fbank window')
        fbank = torchaudio.compliance.kaldi.fbank(
            waveform - waveform.mean(),
            htk_compat=True,
            sample_frequency=self.sample_rate,
            use_energy=False,
            window_type=self.window_type,
            num_mel_bins=self.num_mel_bins,
            dither=0.0,
            frame_length=self.frame_length,
            frame_shift=self.frame_shift)  # [frames, F]
        results['audio'] = fbank.unsqueeze(0)  # [1, frames, F]
        results['audio_frames'] = fbank.shape[0]  # before padding / cropping
        return results


@TRANSFORMS.register_module()
class AudioPadCrop(BaseTransform):
    """Pad (at the end, with ``pad_value``) or crop the time axis to ``target_length`` frames.

    ``pad_value`` 0 in the log-mel domain, before normalisation, follows AST / Audio-MAE.

    Args:
        target_length: output frames T (1024 for 10 s at a 10 ms hop).
        crop: which window of a longer spectrogram to keep: 'start', 'center' or 'random'.
        pad_value: fill value of padded frames.
        key: results key of the spectrogram ``[..., T, F]``.
    """

    CROPS = ('start', 'center', 'random')

    def __init__(self, *, target_length: int = 1024, crop: str = 'start',
                 pad_value: float = 0.0, key: str = 'audio') -> None:
        if crop not in self.CROPS:
            raise ValueError(f'AudioPadCrop: crop must be one of {self.CROPS}, got {crop!r}')
        self.target_length = target_length
        self.crop = crop
        self.pad_value = pad_value
        self.key = key

    def transform(self, results: dict) -> dict:
        spec = self.require(results, self.key)  # [..., T, F]
        length = spec.shape[-2]
        if length < self.target_length:
            pad = (0, 0, 0, self.target_length - length)
            spec = torch.nn.functional.pad(spec, pad, value=self.pad_value)
        elif length > self.target_length:
            extra = length - self.target_length
            start = {'start': 0, 'center': extra // 2}.get(self.crop)
            if start is None:
                start = int(torch.randint(0, extra + 1, ()).item())
            spec = spec[..., start:start + self.target_length, :]
        results[self.key] = spec.contiguous()
        return results


@TRANSFORMS.register_module()
class AudioNormalize(BaseTransform):
    """``(x - mean) / (2 * std)`` with dataset statistics (Table 9; AST's convention).

    Args:
        mean: dataset mean of the log-mel values (AudioSet -4.268, VGGSound -5.189, ...).
        std: dataset standard deviation (AudioSet 4.569, VGGSound 3.260, ...).
        key: results key of the spectrogram.
    """

    def __init__(self, *, mean: float = AUDIOSET_MEAN, std: float = AUDIOSET_STD,
                 key: str = 'audio') -> None:
        if not std > 0:
            raise ValueError(f'AudioNormalize: std must be > 0, got {std}')
        self.mean = mean
        self.std = std
        self.key = key

    def transform(self, results: dict) -> dict:
        spec = self.require(results, self.key)
        results[self.key] = torch.sub(spec, self.mean).div_(2 * self.std)  # one new tensor
        return results


@TRANSFORMS.register_module()
class AudioRandomRoll(BaseTransform):
    """Augmentation R (Table 9): roll the spectrogram cyclically in time by a random shift.

    Place it before :class:`AudioPadCrop` to roll only the real frames, not the padding.

    Args:
        prob: probability of rolling.
        key: results key of the spectrogram ``[..., T, F]``.
    """

    def __init__(self, *, prob: float = 1.0, key: str = 'audio') -> None:
        self.prob = prob
        self.key = key

    def transform(self, results: dict) -> dict:
        spec = self.require(results, self.key)
        if torch.rand(()) < self.prob:
            shift = int(torch.randint(0, spec.shape[-2], ()).item())
            results[self.key] = torch.roll(spec, shifts=shift, dims=-2)
        return results


@TRANSFORMS.register_module()
class AudioAddNoise(BaseTransform):
    """Augmentation N (Table 9): add Gaussian noise to the spectrogram at ``snr_db``.

    The noise power is the spectrogram's mean square divided by ``10 ** (snr_db / 10)``; an
    all-zero input gets no noise (and no NaN).

    Args:
        snr_db: signal-to-noise ratio in dB.
        prob: probability of adding noise.
        key: results key of the spectrogram.
    """

    def __init__(self, *, snr_db: float = 20.0, prob: float = 1.0, key: str = 'audio') -> None:
        self.snr_db = snr_db
        self.prob = prob
        self.key = key

    def transform(self, results: dict) -> dict:
        spec = self.require(results, self.key)
        if torch.rand(()) < self.prob:
            power = spec.pow(2).mean()
            noise_std = torch.sqrt(power / 10 ** (self.snr_db / 10))
            results[self.key] = spec + torch.randn_like(spec) * noise_std
        return results


@TRANSFORMS.register_module()
class SpecAugment(BaseTransform):
    """SpecAugment time and frequency masking (Park et al. 2019; Table 9: 192 / 48 ...).

    Each mask has a width drawn uniformly from ``[0, max_width]`` at a uniform position and is
    set to ``mask_value`` (0 in the log-mel fbank, before :class:`AudioNormalize`, as
    torchaudio's masking in AST / AudioMAE).

    Args:
        time_mask: maximum width of a time mask in frames (0 disables).
        freq_mask: maximum width of a frequency mask in bins (0 disables).
        num_time_masks: time masks per sample.
        num_freq_masks: frequency masks per sample.
        mask_value: value written into masked cells.
        key: results key of the spectrogram ``[..., T, F]``.
    """

    def __init__(self, *, time_mask: int = 192, freq_mask: int = 48, num_time_masks: int = 1,
                 num_freq_masks: int = 1, mask_value: float = 0.0, key: str = 'audio') -> None:
        self.time_mask = time_mask
        self.freq_mask = freq_mask
        self.num_time_masks = num_time_masks
        self.num_freq_masks = num_freq_masks
        self.mask_value = mask_value
        self.key = key

    def transform(self, results: dict) -> dict:
        spec = self.require(results, self.key).clone()
        for dim, max_width, count in ((-2, self.time_mask, self.num_time_masks),
                                      (-1, self.freq_mask, self.num_freq_masks)):
            for _ in range(count):
                start, width = _draw_mask(spec.shape[dim], max_width)
                spec.narrow(dim, start, width).fill_(self.mask_value)
        results[self.key] = spec
        return results


def _draw_mask(size: int, max_width: int) -> Tuple[int, int]:
    """(start, width) with width uniform in [0, min(max_width, size)]."""
    width = int(torch.randint(0, min(max_width, size) + 1, ()).item())
    start = int(torch.randint(0, size - width + 1, ()).item())
    return start, width


def fbank_frames(num_samples: int, *, sample_rate: int = 16000, frame_length: float = 25.0,
                 frame_shift: float = 10.0) -> int:
    """Frames Kaldi's fbank yields for ``num_samples`` (snip_edges=True); e.g. 10 s -> 998."""
    window = int(sample_rate * frame_length / 1000)
    shift = int(sample_rate * frame_shift / 1000)
    return 0 if num_samples < window else 1 + (num_samples - window) // shift


__all__ = [
    'AudioResample', 'KaldiFbank', 'AudioPadCrop', 'AudioNormalize', 'AudioRandomRoll',
    'AudioAddNoise', 'SpecAugment', 'fbank_frames', 'AUDIOSET_MEAN', 'AUDIOSET_STD'
]
