"""Mixed precision by autocast on any device (MMEngine's AmpOptimWrapper requires CUDA)."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mavil.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs forward under ``torch.autocast`` on the model's device type.

    bfloat16 (default) needs no loss scaling; it is ~4x faster than fp32 on CPUs with AMX and
    the usual choice on A100/H100. float16 on CUDA should use MMEngine's AmpOptimWrapper.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"AutocastOptimWrapper dtype must be 'bfloat16' or 'float16', "
                             f'got {dtype!r}')
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type, dtype=self.cast_dtype):
            yield
