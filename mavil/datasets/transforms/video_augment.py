"""Video fine-tuning augmentation (App. B.3: "standard video augmentations used in video
classification" [MAE-ST, MViT]): RandAugment and random erasing, one draw per clip.

Both wrap library implementations (torchvision); the clip-level part is ours: every frame of a
clip gets the same operations / the same erased box, as MAE-ST's video RandAugment and its
``cube`` random erasing do. MAE-ST's recipe: ``rand-m7-n4-mstd0.5-inc1``, erasing 0.25 in
'pixel' mode, label smoothing 0.1 (the last is a loss setting, see ``AVClassifier``).
"""
from typing import Sequence

import torch
from torchvision.transforms import RandomErasing
from torchvision.transforms import v2

from mavil.registry import TRANSFORMS
from .base import BaseTransform

# ImageNet statistics in 0-255 (as AVDataPreprocessor): erased pixels are N(0, 1) AFTER its
# normalisation, as timm's 'pixel' mode on a normalised tensor
RGB_MEAN = (123.675, 116.28, 103.53)
RGB_STD = (58.395, 57.12, 57.375)


@TRANSFORMS.register_module()
class VideoRandAugment(BaseTransform):
    """torchvision's RandAugment applied to a whole clip ``[C, T, H, W]`` uint8.

    ``num_ops`` (n) operations at ``magnitude`` (m) on timm's 0-10 scale: torchvision maps
    ``magnitude`` over ``num_magnitude_bins`` steps up to each op's maximum, so 11 bins make
    m7 = 0.7 x maximum, as timm's ``rand-m7`` (the maxima agree: shear 0.3, rotate 30 deg,
    colour / contrast / brightness / sharpness 0.9). Not reproduced: timm's magnitude noise
    (``mstd0.5``) and ``inc1`` op variants.

    Args:
        num_ops: operations per clip (MAE-ST: 4).
        magnitude: strength on the 0-10 scale (MAE-ST: 7).
        key: results key of the video.
    """

    def __init__(self, *, num_ops: int = 4, magnitude: int = 7, key: str = 'video') -> None:
        if not 0 <= magnitude <= 10:
            raise ValueError(f'VideoRandAugment: magnitude is on the 0-10 scale, got {magnitude}')
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.key = key
        self._augment = v2.RandAugment(num_ops=num_ops, magnitude=magnitude,
                                       num_magnitude_bins=11)

    def transform(self, results: dict) -> dict:
        video = self.require(results, self.key)
        if video.dim() != 4 or video.dtype != torch.uint8:
            raise ValueError(f'VideoRandAugment needs one uint8 clip [C, T, H, W], got '
                             f'{video.dtype} {list(video.shape)}')
        frames = video.permute(1, 0, 2, 3)  # [T, C, H, W]: one draw for all frames
        results[self.key] = self._augment(frames).permute(1, 0, 2, 3).contiguous()
        return results


@TRANSFORMS.register_module()
class VideoRandomErasing(BaseTransform):
    """Random erasing (Zhong et al.) of one box, the same in every frame of the clip.

    The box comes from torchvision's ``RandomErasing.get_params`` (area ``scale`` of the frame,
    aspect ``ratio``); its pixels get per-pixel Gaussian noise that is N(0, 1) after the
    ImageNet normalisation (timm's 'pixel' mode), fresh per frame as MAE-ST's ``cube`` mode.
    The clip becomes float32 in 0-255 units (AVDataPreprocessor accepts it).

    Args:
        prob: probability that a clip is erased (MAE-ST: 0.25).
        scale: range of the erased area fraction.
        ratio: range of the box's aspect ratio.
        key: results key of the video.
    """

    def __init__(self, *, prob: float = 0.25, scale: Sequence[float] = (0.02, 1 / 3),
                 ratio: Sequence[float] = (0.3, 3.3), key: str = 'video') -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'VideoRandomErasing: prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.key = key

    def transform(self, results: dict) -> dict:
        video = self.require(results, self.key)
        if video.dim() != 4:
            raise ValueError(f'VideoRandomErasing needs one clip [C, T, H, W], got '
                             f'{list(video.shape)}')
        results['erased_box'] = None
        if float(torch.rand(())) >= self.prob:
            return results
        channels, frames = video.shape[:2]
        height, width = video.shape[-2:]
        top, left, h, w, _ = RandomErasing.get_params(video[:, 0], scale=self.scale,
                                                      ratio=self.ratio, value=[0.0])
        if (h, w) == (height, width):  # torchvision's "no box found in 10 draws"
            return results
        out = video.float()  # [C, T, H, W]
        noise = torch.randn(channels, frames, h, w)
        mean = torch.tensor(RGB_MEAN[:channels]).view(-1, 1, 1, 1)
        std = torch.tensor(RGB_STD[:channels]).view(-1, 1, 1, 1)
        out[:, :, top:top + h, left:left + w] = mean + std * noise
        results[self.key] = out
        results['erased_box'] = (top, left, h, w)
        return results
