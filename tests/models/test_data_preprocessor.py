"""AVDataPreprocessor: stacking, RGB normalisation, missing modalities."""
import pytest
import torch

from mavil.models import AVDataPreprocessor
from mavil.registry import MODELS


def test_stacks_lists_and_normalises_rgb():
    mean, std = (10.0, 20.0, 30.0), (2.0, 4.0, 5.0)
    pre = AVDataPreprocessor(rgb_mean=mean, rgb_std=std)
    audio = [torch.randn(1, 6, 4) for _ in range(3)]
    video = [torch.randint(0, 256, (3, 2, 4, 4), dtype=torch.uint8) for _ in range(3)]
    out = pre(dict(inputs=dict(audio=audio, video=video), data_samples=None))
    a, v = out['inputs']['audio'], out['inputs']['video']
    assert a.shape == (3, 1, 6, 4) and v.shape == (3, 3, 2, 4, 4)
    assert a.dtype == torch.float32 and v.dtype == torch.float32
    for b in range(3):
        assert torch.equal(a[b], audio[b])  # audio is already normalised by the transforms
        for c in range(3):  # hand check: (x - mean_c) / std_c on every element
            for t, h, w in [(0, 0, 0), (1, 3, 2), (0, 2, 3)]:
                expected = (float(video[b][c, t, h, w]) - mean[c]) / std[c]
                assert v[b, c, t, h, w].item() == pytest.approx(expected, rel=1e-6)
    assert out['data_samples'] is None


def test_accepts_batched_tensors_and_passes_samples():
    pre = MODELS.build(dict(type='AVDataPreprocessor'))
    video = torch.full((2, 3, 1, 2, 2), 255.0)
    samples = [dict(id=0), dict(id=1)]
    out = pre(dict(inputs=dict(audio=torch.zeros(2, 1, 4, 4), video=video),
                   data_samples=samples))
    imagenet_mean, imagenet_std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    for c in range(3):
        expected = (255.0 - imagenet_mean[c]) / imagenet_std[c]
        assert torch.allclose(out['inputs']['video'][:, c], torch.tensor(expected))
    assert out['data_samples'] == samples


def test_missing_modality_raises():
    pre = AVDataPreprocessor()
    with pytest.raises(KeyError, match="miss modalities \\['video'\\]"):
        pre(dict(inputs=dict(audio=[torch.zeros(1, 4, 4)])))
    audio_only = AVDataPreprocessor(modalities=('audio', ))
    out = audio_only(dict(inputs=dict(audio=[torch.zeros(1, 4, 4)])))
    assert set(out['inputs']) == {'audio'}
