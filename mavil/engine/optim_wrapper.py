"""Mixed precision by autocast on any device (MMEngine's AmpOptimWrapper requires CUDA)."""
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mavil.registry import OPTIM_WRAPPERS

# warn when bf16 matmuls run this many times slower than fp32 (emulated bf16)
SLOW_BF16_RATIO = 1.2


def slow_bf16_warning(device_type: str, dtype: torch.dtype) -> str | None:
    """A warning when bf16 autocast would slow training down on this CPU, else None.

    CPUs with AMX or AVX512-BF16 run bf16 matmuls several times faster than fp32; others
    (e.g. AVX2-only AMD EPYC) emulate bf16 and run it several times SLOWER. Those are told
    apart by a tiny matmul probe (tens of milliseconds), whose ratio the warning quotes.
    """
    if device_type != 'cpu' or dtype != torch.bfloat16:
        return None
    from mavil.analysis.throughput import bf16_matmul_slowdown
    from mavil.models.targets.teacher_targets import cpu_has_fast_bf16
    if cpu_has_fast_bf16():
        return None
    slowdown = bf16_matmul_slowdown()
    if slowdown < SLOW_BF16_RATIO:
        return None
    return (f'bf16 autocast (--amp) on this CPU: it has no AMX / AVX512-BF16, and a bf16 '
            f'matmul probe ran {slowdown:.1f}x SLOWER than fp32, so training will be slower '
            f'than without --amp, not faster (use --amp on GPUs or CPUs with AMX)')


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs forward under ``torch.autocast`` on the model's device type.

    bfloat16 (default) needs no loss scaling; it is ~4x faster than fp32 on CPUs with AMX and
    the usual choice on A100/H100. float16 on CUDA should use MMEngine's AmpOptimWrapper.
    On a CPU that emulates bf16 the first step logs a warning with the measured slowdown.
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
