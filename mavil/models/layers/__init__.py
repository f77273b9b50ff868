"""Plain nn.Modules and functions (not registered): the building blocks of the components."""
from .masking import (MASKING_TYPES, FinetuneMasking, MaskInfo, check_mask_ratio, gather_tokens,
                      sample_mask, slot_drop_mask)
from .patches import PatchEmbed, grid_shape, patchify, unpatchify
from .pooling import flatten_clips, full_view_embedding, mean_over_clips, mean_pool
from .transformer import (ATTENTION_BACKENDS, Attention, AttentionBackend, Block, call_block,
                          check_attention_backend, make_blocks, math_attention, run_blocks)
from .weight_init import init_mae_weights

__all__ = [
    'ATTENTION_BACKENDS', 'Attention', 'AttentionBackend', 'check_attention_backend',
    'math_attention', 'Block', 'call_block', 'make_blocks', 'run_blocks', 'MASKING_TYPES',
    'FinetuneMasking', 'MaskInfo', 'check_mask_ratio',
    'gather_tokens', 'sample_mask', 'slot_drop_mask', 'PatchEmbed', 'grid_shape', 'patchify',
    'unpatchify', 'flatten_clips', 'full_view_embedding', 'mean_over_clips', 'mean_pool',
    'init_mae_weights'
]
