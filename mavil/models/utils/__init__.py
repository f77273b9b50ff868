"""Fine-tuning helpers: checkpoint adaptation / inflation, fine-tuning masking, mixup."""
from .ft_masking import FinetuneMasking, slot_drop_mask
from .mixup import BatchMixup
from .pretrained import (ImageViTInflateInit, LoadReport, adapt_checkpoint_state,
                         image_vit_to_video_encoder, inflate_patch_embed, is_image_vit_state,
                         load_pretrained, match_state_dict, unwrap_state)

__all__ = [
    'FinetuneMasking', 'slot_drop_mask', 'BatchMixup', 'ImageViTInflateInit', 'LoadReport',
    'adapt_checkpoint_state', 'image_vit_to_video_encoder', 'inflate_patch_embed',
    'is_image_vit_state', 'load_pretrained', 'match_state_dict', 'unwrap_state'
]
