"""Mixed precision by autocast on any device (MMEngine's AmpOptimWrapper requires CUDA)."""
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mavil import hardware
from mavil.registry import OPTIM_WRAPPERS


def slow_bf16_warning(device_type: str, dtype: torch.dtype) -> str | None:
    """A warning when bf16 autocast would slow training down on this CPU, else None.

    The decision is :func:`mavil.hardware.bf16_is_faster` (AMX, or a measured bf16 vs fp32
    matmul probe, cached per machine), the same that picks the stage-2 teacher's precision;
    the warning quotes the probe's speed ratio.
    """
    if device_type != 'cpu' or dtype != torch.bfloat16 or hardware.bf16_is_faster('cpu'):
        return None
    speedup = hardware.bf16_probe().speedup
    return (f'bf16 autocast (--amp) on this CPU: a bf16 matmul probe ran at {speedup:.2f}x '
            f'the fp32 speed (no AMX), so training will not be faster than without --amp '
            f'(use --amp on GPUs or CPUs with AMX)')


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs forward under ``torch.autocast`` on the model's device type.

    bfloat16 (default) needs no loss scaling; it is ~4x faster than fp32 on CPUs with AMX and
    the usual choice on A100/H100. float16 on CUDA should use MMEngine's AmpOptimWrapper.
    On a CPU where bf16 measured no faster than fp32 the first step logs a warning.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"AutocastOptimWrapper dtype must be 'bfloat16' or 'float16', "
                             f'got {dtype!r}')
        self.cast_dtype = getattr(torch, dtype)
        self._device_checked = False

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device_type = next(model.parameters()).device.type
        if not self._device_checked:  # once, at the first step
            self._device_checked = True
            warning = slow_bf16_warning(device_type, self.cast_dtype)
            if warning:
                print_log(warning, logger='current', level=30)  # logging.WARNING
        with super().optim_context(model), torch.autocast(device_type, dtype=self.cast_dtype):
            yield
