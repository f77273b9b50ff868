"""Spatial video transforms on uint8 [C, T, H, W] (and [N, C, T, H, W]) clips."""
import math
import random

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


def crop_boxes(transform, height: int, width: int, n: int) -> torch.Tensor:
    """[n, 4] (top, left, h, w) drawn by ``transform`` on a 1-frame gray clip."""
    video = torch.zeros(1, 1, height, width, dtype=torch.uint8)
    return torch.tensor([transform(dict(video=video))['crop_box'] for _ in range(n)])


def reference_crop_box(height, width, scale, ratio, rng: random.Random):
    """RandomResizedCrop's geometry written out (Inception-style crop): area fraction uniform
    in ``scale``, aspect ratio log-uniform in ``ratio``, 10 tries, then a centred crop."""
    for _ in range(10):
        target = height * width * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    w, h = width, height
    if width / height < ratio[0]:
        h = round(width / ratio[0])
    elif width / height > ratio[1]:
        w = round(height * ratio[1])
    return (height - h) // 2, (width - w) // 2, h, w


@pytest.mark.parametrize('height,width', [(80, 80), (30, 130)])
def test_random_resized_crop_statistics_match_the_reference(height, width):
    """torchvision's get_params (used by the transform) and the written-out geometry draw
    crops with the same statistics: area fraction, log aspect ratio, position, fallbacks."""
    torch.manual_seed(0)
    scale, ratio, n = (0.2, 1.0), (3 / 4, 4 / 3), 1500
    ours = crop_boxes(VideoRandomResizedCrop(size=8, scale=scale, ratio=ratio),
                      height, width, n).double()
    rng = random.Random(0)
    ref = torch.tensor([reference_crop_box(height, width, scale, ratio, rng)
                        for _ in range(n)]).double()
    for boxes in (ours, ref):
        assert (boxes[:, 0] + boxes[:, 2] <= height).all()
        assert (boxes[:, 1] + boxes[:, 3] <= width).all()

    def stats(boxes):
        top, left, h, w = boxes.unbind(1)
        return {'area': h * w / (height * width), 'log_aspect': (w / h).log(),
                'top': top / height, 'left': left / width}

    for name, a in stats(ours).items():
        b = stats(ref)[name]
        tol = 4 * math.sqrt((a.var() + b.var()) / n)  # 4 standard errors of the difference
        assert abs(a.mean() - b.mean()) < tol, (name, a.mean(), b.mean())
        assert abs(a.std() - b.std()) < 0.1 * b.std() + 1e-9, (name, a.std(), b.std())
    area = stats(ours)['area']
    assert area.min() >= scale[0] - 0.02 and area.max() <= 1.0
    if height == width:
        assert area.min() < 0.3 and area.max() > 0.8  # multi-scale


def test_random_resized_crop_fallback_on_extreme_aspect():
    # 10 x 1000 frame: no draw fits; falls back to a centred crop with ratio 4/3
    top, left, h, w = crop_boxes(VideoRandomResizedCrop(size=8), 10, 1000, 1)[0].tolist()
    assert (h, w) == (10, 13) and left == (1000 - 13) // 2
    assert (h, w) == reference_crop_box(10, 1000, (0.08, 1.0), (3 / 4, 4 / 3),
                                        random.Random(0))[2:]


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
