"""ClipSampler: where clips go in long and short videos."""
import numpy as np
import pytest
import torch

from mavil.datasets.transforms import ClipSampler


def test_train_random_start_within_video():
    torch.manual_seed(0)
    sampler = ClipSampler(num_frames=8, fps=2.0)
    assert sampler.span == 4.0
    starts = []
    for _ in range(200):
        times = sampler(10.0)  # [1, 8]
        assert times.shape == (1, 8)
        np.testing.assert_allclose(np.diff(times[0]), 0.5)
        starts.append(times[0, 0])
    assert min(starts) >= 0 and max(starts) <= 6.0
    assert max(starts) - min(starts) > 4.0  # spread over [0, 6]


def test_test_mode_is_centred_and_deterministic():
    sampler = ClipSampler(num_frames=8, fps=2.0, test_mode=True)
    np.testing.assert_allclose(sampler(10.0)[0], 3.0 + np.arange(8) / 2)
    np.testing.assert_allclose(sampler(10.0), sampler(10.0))


def test_multi_clip_uniform():
    times = ClipSampler(num_frames=2, fps=1.0, num_clips=4, test_mode=True)(10.0)
    assert times.shape == (4, 2)
    np.testing.assert_allclose(times[:, 0], [1.0, 3.0, 5.0, 7.0])  # 8 s slack, centred


def test_short_video_wraps_cyclically():
    times = ClipSampler(num_frames=8, fps=2.0, test_mode=True)(1.5)
    np.testing.assert_allclose(times[0], [0, 0.5, 1.0, 0, 0.5, 1.0, 0, 0.5])
    torch.manual_seed(0)
    for _ in range(20):
        times = ClipSampler(num_frames=8, fps=2.0)(1.5)
        assert (times >= 0).all() and (times < 1.5).all()


@pytest.mark.parametrize('kwargs', [dict(num_frames=0), dict(fps=0), dict(num_clips=0)])
def test_rejects_bad_config(kwargs):
    with pytest.raises(ValueError):
        ClipSampler(**kwargs)


def test_rejects_empty_video():
    with pytest.raises(ValueError, match='duration 0'):
        ClipSampler()(0.0)
