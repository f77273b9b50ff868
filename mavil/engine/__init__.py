from .checkpoint import atomic_torch_save, load_checkpoint_file, model_state_dict
from .hooks import SkippedSampleHook
from .optim_constructors import FinetuneOptimWrapperConstructor
from .optim_wrapper import AutocastOptimWrapper
from .runner import CPUCompatibleDDP, MAViLRunner

__all__ = [
    'atomic_torch_save', 'load_checkpoint_file', 'model_state_dict', 'AutocastOptimWrapper',
    'CPUCompatibleDDP', 'SkippedSampleHook', 'FinetuneOptimWrapperConstructor',
    'MAViLRunner'
]
