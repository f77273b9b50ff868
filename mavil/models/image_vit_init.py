"""``ImageViTInflateInit``: the ``init_cfg`` that initialises a video encoder from an image ViT
checkpoint (App. B.3, "IN-SSL"); the conversion itself is :mod:`mavil.weights.image_checkpoints`."""
import os.path as osp
from typing import Optional

from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

from mavil.download import cached_file
from mavil.weights.checkpoint_io import load_checkpoint_file
from mavil.weights.image_checkpoints import (POS_EMBED_POLICIES, image_vit_to_video_encoder,
                                             is_image_vit_state,
                                             missing_image_checkpoint_message)
from mavil.weights.matching import match_state_dict, unwrap_state


@WEIGHT_INITIALIZERS.register_module(name='ImageViTInflateInit')
class ImageViTInflateInit:
    """``init_cfg`` of a ``VideoViT``: load an ImageNet MAE / timm ViT checkpoint, inflating
    the patch embedding (App. B.3, "IN-SSL" initialisation for pre-training)::

        video_encoder=dict(type='VideoViT', ...,
                           init_cfg=dict(type='ImageViTInflateInit',
                                         checkpoint='checkpoints/mae_pretrain_vit_base.pth'))

    Args:
        checkpoint: a local file, or an ``http(s)://`` URL downloaded on first use into
            torch.hub's cache (:func:`mavil.download.cached_file`).
        sha256: the file's SHA-256; a download that differs is discarded.
        pos_embed: 'ignore' accepts a checkpoint whose position table is not our fixed
            sin-cos table (a learned one, e.g. a timm supervised ViT); by default ('check')
            such a table fails the load.
    """

    def __init__(self, *, checkpoint: str, sha256: Optional[str] = None,
                 pos_embed: str = 'check') -> None:
        if pos_embed not in POS_EMBED_POLICIES:
            raise ValueError(f'ImageViTInflateInit: pos_embed must be one of '
                             f'{POS_EMBED_POLICIES}, got {pos_embed!r}')
        self.checkpoint = checkpoint
        self.sha256 = sha256
        self.pos_embed = pos_embed

    def __call__(self, module: nn.Module) -> None:
        path = cached_file(self.checkpoint, sha256=self.sha256)  # a URL: downloaded once
        if not osp.isfile(path):
            raise FileNotFoundError(missing_image_checkpoint_message(path))
        state = unwrap_state(load_checkpoint_file(path, map_location='cpu'))
        if not is_image_vit_state(state):
            raise RuntimeError(f'{self.checkpoint} is not an image ViT checkpoint (no 2D '
                               '`patch_embed.proj.weight` with `blocks.*`)')
        converted, ignored, notes = image_vit_to_video_encoder(
            state, module, pos_embed=self.pos_embed, source=self.checkpoint)
        report = match_state_dict(converted, module.state_dict(),
                                  source=f'{self.checkpoint}: image ViT',
                                  what=type(module).__name__)
        report.unexpected += ignored
        report.notes += notes
        module.load_state_dict(converted, strict=False)
        print_log(str(report), logger='current')

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: inflated from {self.checkpoint}'
