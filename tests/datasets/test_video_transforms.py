"""Spatial video transforms on uint8 [C, T, H, W] (and [N, C, T, H, W]) clips."""
import pytest
import torch

from mavil.datasets.transforms import (VideoCenterCrop, VideoRandomFlip, VideoRandomResizedCrop,
                                       VideoResize, resize_video)


def clip(c=3, t=8, h=241, w=321) -> torch.Tensor:
    return torch.randint(0, 256, (c, t, h, w), dtype=torch.uint8)


@pytest.mark.parametrize('h,w', [(241, 321), (320, 180), (48, 64), (224, 224)])
def test_random_resized_crop_sizes(h, w):
    torch.manual_seed(0)
    transform = VideoRandomResizedCrop(size=224, scale=(0.2, 1.0))
    for _ in range(10):
        out = transform(dict(video=clip(h=h, w=w)))
        assert out['video'].shape == (3, 8, 224, 224) and out['video'].dtype == torch.uint8
        top, left, ch, cw = out['crop_box']
        assert 0 <= top and top + ch <= h and 0 <= left and left + cw <= w
        assert ch * cw <= h * w


def test_random_resized_crop_scale_range():
    torch.manual_seed(0)
    transform = VideoRandomResizedCrop(size=32, scale=(0.2, 1.0))
    areas = []
    for _ in range(300):
        _, _, ch, cw = transform.crop_box(400, 400)
        areas.append(ch * cw / 400 ** 2)
    assert min(areas) >= 0.19 and max(areas) <= 1.0
    assert min(areas) < 0.3 and max(areas) > 0.8  # multi-scale


def test_random_resized_crop_fallback_on_extreme_aspect():
    # 10 x 1000 frame: no draw fits; falls back to a centred crop with ratio 4/3
    top, left, h, w = VideoRandomResizedCrop(size=8).crop_box(10, 1000)
    assert (h, w) == (10, 13) and left == (1000 - 13) // 2


def test_random_resized_crop_same_geometry_for_all_frames():
    frame = torch.randint(0, 256, (3, 1, 60, 80), dtype=torch.uint8)
    video = frame.expand(3, 5, 60, 80).contiguous()
    out = VideoRandomResizedCrop(size=(16, 24))(dict(video=video))['video']
    assert out.shape == (3, 5, 16, 24)
    assert all(torch.equal(out[:, 0], out[:, t]) for t in range(5))


def test_flip():
    video = clip(t=2, h=5, w=7)
    flipped = VideoRandomFlip(prob=1.0)(dict(video=video))
    assert flipped['flip'] and torch.equal(flipped['video'], video.flip(-1))
    kept = VideoRandomFlip(prob=0.0)(dict(video=video))
    assert not kept['flip'] and torch.equal(kept['video'], video)
    torch.manual_seed(0)
    flips = [VideoRandomFlip()(dict(video=video))['flip'] for _ in range(100)]
    assert 30 < sum(flips) < 70


@pytest.mark.parametrize('h,w,expected', [(241, 321, (224, 298)), (320, 180, (398, 224)),
                                          (100, 100, (224, 224))])
def test_resize_short_side(h, w, expected):
    out = VideoResize(short_side=224)(dict(video=clip(t=2, h=h, w=w)))['video']
    assert out.shape == (3, 2, *expected) and out.dtype == torch.uint8


def test_resize_exact_and_config_errors():
    out = VideoResize(size=(32, 48))(dict(video=clip(t=2)))['video']
    assert out.shape == (3, 2, 32, 48)
    with pytest.raises(ValueError, match='exactly one'):
        VideoResize(short_side=2, size=2)


def test_resize_keeps_constant_frames_exact():
    video = torch.full((3, 2, 37, 53), 200, dtype=torch.uint8)
    assert (resize_video(video, (11, 17)) == 200).all()


def test_resize_uint8_close_to_float():
    video = clip(t=2, h=97, w=131)
    ref = resize_video(video.float(), (50, 60)).round().clamp(0, 255)
    assert (resize_video(video, (50, 60)).float() - ref).abs().max() <= 1


def test_center_crop():
    video = torch.arange(10 * 12, dtype=torch.int32).view(1, 1, 10, 12).to(torch.uint8)
    out = VideoCenterCrop(size=(4, 6))(dict(video=video))['video']
    assert torch.equal(out, video[..., 3:7, 3:9])
    with pytest.raises(ValueError, match='crop 224x224 exceeds the 10x12 frame of a.mp4'):
        VideoCenterCrop(size=224)(dict(video=video, filename='a.mp4'))


@pytest.mark.parametrize('h,w', [(241, 321), (320, 180)])
def test_test_pipeline_on_odd_and_portrait(h, w):
    results = dict(video=clip(h=h, w=w))
    for transform in (VideoResize(short_side=224), VideoCenterCrop(size=224)):
        results = transform(results)
    assert results['video'].shape == (3, 8, 224, 224)


def test_multi_clip_layout_and_other_channel_counts():
    multi = torch.randint(0, 256, (4, 3, 8, 50, 70), dtype=torch.uint8)  # [N, C, T, H, W]
    out = VideoResize(short_side=32)(dict(video=multi))['video']
    assert out.shape == (4, 3, 8, 32, 45)
    assert VideoCenterCrop(size=32)(dict(video=out))['video'].shape == (4, 3, 8, 32, 32)
    gray = VideoRandomResizedCrop(size=16)(dict(video=clip(c=1, t=3, h=40, w=30)))['video']
    assert gray.shape == (1, 3, 16, 16)


def test_video_resize_matches_per_clip():
    multi = torch.randint(0, 256, (2, 3, 4, 30, 40), dtype=torch.uint8)
    out = resize_video(multi, (15, 20))
    assert torch.equal(out[1], resize_video(multi[1], (15, 20)))
