from .hooks import SkippedSampleHook
from .optim_constructors import FinetuneOptimWrapperConstructor
from .optim_wrapper import AutocastOptimWrapper
from .runner import CPUCompatibleDDP, MAViLRunner

__all__ = [
    'AutocastOptimWrapper', 'CPUCompatibleDDP', 'SkippedSampleHook',
    'FinetuneOptimWrapperConstructor', 'MAViLRunner'
]
