from .accumulation import MicroBatchLoader, contrast_batch_note, resolve_exact_contrast
from .checkpoint_hook import AtomicCheckpointHook
from .optim_constructors import FinetuneOptimWrapperConstructor
from .optim_wrapper import AutocastOptimWrapper
from .param_groups import MergedGroupsOptimWrapperConstructor, merge_param_groups
from .runner import CPUCompatibleDDP, MAViLRunner
from .skipping import (SkipAwareEpochBasedTrainLoop, SkipAwareIterBasedTrainLoop,
                       SkipAwareTestLoop, SkipAwareValLoop, SkippedSampleHook)

__all__ = [
    'AtomicCheckpointHook', 'AutocastOptimWrapper', 'CPUCompatibleDDP', 'SkippedSampleHook',
    'FinetuneOptimWrapperConstructor', 'MergedGroupsOptimWrapperConstructor',
    'merge_param_groups', 'MAViLRunner', 'MicroBatchLoader', 'contrast_batch_note',
    'resolve_exact_contrast', 'SkipAwareEpochBasedTrainLoop', 'SkipAwareIterBasedTrainLoop',
    'SkipAwareTestLoop', 'SkipAwareValLoop'
]
