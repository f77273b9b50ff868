"""Clip-level RandAugment and random erasing (video fine-tuning augmentation, App. B.3)."""
import pytest
import torch

from mavil.datasets.transforms import VideoRandAugment, VideoRandomErasing
from mavil.datasets.transforms.video_augment import RGB_MEAN, RGB_STD


def test_randaugment_applies_one_draw_to_every_frame():
    torch.manual_seed(0)
    frame = torch.randint(0, 256, (3, 1, 24, 32), dtype=torch.uint8)
    clip = frame.expand(-1, 5, -1, -1).contiguous()  # 5 identical frames
    changed = 0
    for _ in range(10):
        out = VideoRandAugment(num_ops=4, magnitude=7)({'video': clip.clone()})['video']
        assert out.shape == clip.shape and out.dtype == torch.uint8
        assert all(torch.equal(out[:, t], out[:, 0]) for t in range(5))  # same ops per frame
        changed += int(not torch.equal(out, clip))
    assert changed >= 5  # it does augment


def test_randaugment_magnitude_is_on_timms_scale():
    assert VideoRandAugment(magnitude=7)._augment.num_magnitude_bins == 11
    with pytest.raises(ValueError, match='0-10'):
        VideoRandAugment(magnitude=15)


def test_random_erasing_erases_one_box_through_all_frames():
    torch.manual_seed(0)
    clip = torch.randint(0, 256, (3, 4, 64, 64), dtype=torch.uint8)
    results = VideoRandomErasing(prob=1.0)({'video': clip.clone()})
    out, (top, left, h, w) = results['video'], results['erased_box']
    assert out.dtype == torch.float32
    inside = torch.zeros(64, 64, dtype=torch.bool)
    inside[top:top + h, left:left + w] = True
    assert 0.02 * 64 * 64 <= inside.sum() <= 64 * 64 / 3 + 64  # area fraction in scale
    torch.testing.assert_close(out[..., ~inside], clip.float()[..., ~inside])  # rest untouched
    # erased pixels are N(0, 1) after ImageNet normalisation, fresh per frame
    mean = torch.tensor(RGB_MEAN).view(3, 1, 1)
    std = torch.tensor(RGB_STD).view(3, 1, 1)
    z = (out[:, :, top:top + h, left:left + w] - mean[:, None]) / std[:, None]
    assert abs(z.mean().item()) < 0.2 and abs(z.std().item() - 1) < 0.2
    assert not torch.equal(z[:, 0], z[:, 1])


def test_random_erasing_probability():
    torch.manual_seed(0)
    clip = torch.randint(0, 256, (3, 2, 32, 32), dtype=torch.uint8)
    never = VideoRandomErasing(prob=0.0)({'video': clip})
    assert never['video'] is clip and never['erased_box'] is None
    erased = sum(VideoRandomErasing(prob=0.25)({'video': clip})['erased_box'] is not None
                 for _ in range(400))
    assert 60 <= erased <= 140  # ~100 expected
