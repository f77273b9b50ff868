"""Machine facts measured, not guessed: the matmul rate and whether bf16 is faster than fp32.

One decision, :func:`bf16_is_faster`, drives every automatic precision choice (the stage-2
teacher's autocast, the ``--amp`` warning):

- CUDA: bf16 when the GPU supports it.
- CPU with AMX: bf16 (its tile units run bf16 matmuls several times faster than fp32).
- any other CPU: a short probe times one bf16 and one fp32 matmul on one thread; bf16 only if
  it runs at least :data:`FAST_BF16_SPEEDUP` times faster. A CPU flag is not enough: with
  AVX512-BF16 but no AMX, bf16 autocast measured SLOWER than fp32 (a 1536^2 matmul at 0.84x),
  and AVX2-only CPUs emulate bf16 many times slower.

The probe result is cached in-process and in a JSON file (``$MAVIL_CACHE_DIR`` or
``~/.cache/mavil``, ``bf16_probe.json``) keyed by CPU model, CPU flags that matter and the
torch version, so each machine measures once. This module imports only torch, so both
``mavil.engine`` and ``mavil.models`` can use it.
"""
import functools
import json
import os
import os.path as osp
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch

# bf16 must beat fp32 by this factor to be chosen: autocast adds casts around every matmul
FAST_BF16_SPEEDUP = 1.2
PROBE_SIZE = 512  # square matmul of the probe: a transformer-sized product, ~2 ms in fp32
CACHE_FILE = 'bf16_probe.json'
_FLAGS = ('amx_tile', 'amx_bf16', 'avx512_bf16', 'avx512f', 'avx2')

_probes: dict[str, 'Bf16Probe'] = {}  # in-process cache, keyed like the file


@dataclass
class Bf16Probe:
    """One probe: matmul FLOP/s of each dtype on one CPU thread."""
    fp32_flops: float
    bf16_flops: float

    @property
    def speedup(self) -> float:
        """bf16 / fp32 speed: > 1 means bf16 is faster."""
        return self.bf16_flops / self.fp32_flops


def matmul_flops_per_s(dtype: torch.dtype = torch.float32,
                       *,
                       size: int = 1024,
                       repeats: int = 5,
                       min_seconds: float = 0.05,
                       device: torch.device | str = 'cpu',
                       clock: Callable[[], float] = time.perf_counter) -> float:
    """Best-of-``repeats`` FLOP/s of a square ``size`` matmul (2 * size^3 FLOPs each).

    The best repeat is the peak: background load only ever slows a repeat down. Each repeat
    runs enough matmuls to last ``min_seconds``. ``clock`` may be ``time.process_time`` for
    single-threaded CPU figures that ignore time spent descheduled on a shared machine.
    """
    device = torch.device(device)
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)

    def sync() -> None:
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    torch.mm(a, b)  # warm-up (allocations, kernel selection)
    sync()
    start = clock()
    torch.mm(a, b)
    sync()
    one = max(clock() - start, 1e-9)
    count = max(1, int(min_seconds / one))
    best = float('inf')
    for _ in range(repeats):
        sync()
        start = clock()
        for _ in range(count):
            torch.mm(a, b)
        sync()
        best = max(min(best, (clock() - start) / count), 1e-9)
    return 2.0 * size**3 / best


@functools.lru_cache(maxsize=None)  # /proc/cpuinfo, read once per process
def cpu_flags() -> set[str]:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where it does not exist)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


@functools.lru_cache(maxsize=None)
def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=None)
def cpu_has_amx() -> bool:
    """AMX tiles (Sapphire Rapids and later): bf16 matmuls several times faster than fp32."""
    check = getattr(torch.cpu, '_is_amx_tile_supported', None)
    return bool(check()) if check is not None else 'amx_bf16' in cpu_flags()


def machine_key() -> str:
    """What the probe result depends on: CPU model, its bf16-relevant flags, torch."""
    flags = sorted(cpu_flags() & set(_FLAGS))
    return f'{cpu_model()} | {",".join(flags) or "-"} | torch {torch.__version__}'


def cache_path() -> str:
    root = os.environ.get('MAVIL_CACHE_DIR') or osp.join(osp.expanduser('~'), '.cache', 'mavil')
    return osp.join(root, CACHE_FILE)


def measure_bf16(size: int = PROBE_SIZE, repeats: int = 3,
                 min_seconds: float = 0.02) -> Bf16Probe:
    """Time a bf16 and an fp32 matmul on ONE thread (a busy machine cannot stall a thread
    barrier) with the process's CPU clock (time descheduled does not count): ~0.1-0.5 s."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rates = {dtype: matmul_flops_per_s(dtype, size=size, repeats=repeats,
                                           min_seconds=min_seconds, clock=time.process_time)
                 for dtype in (torch.float32, torch.bfloat16)}
    finally:
        torch.set_num_threads(threads)
    return Bf16Probe(fp32_flops=rates[torch.float32], bf16_flops=rates[torch.bfloat16])


def _read_cache(path: str) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # absent or unreadable: measured again and rewritten


def _write_cache(path: str, data: dict) -> None:
    try:
        os.makedirs(osp.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), prefix='.bf16_probe.')
        with os.fdopen(fd, 'w') as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)  # atomic: processes probing at once never read half a file
    except OSError:
        pass  # a read-only home: the in-process cache still holds the result


def bf16_probe() -> Bf16Probe:
    """This machine's probe: from the in-process cache, else the cache file, else measured
    now (and stored in both)."""
    key = machine_key()
    if key in _probes:
        return _probes[key]
    path = cache_path()
    cached = _read_cache(path).get(key)
    probe = None
    if isinstance(cached, dict):
        try:
            probe = Bf16Probe(fp32_flops=float(cached['fp32_flops']),
                              bf16_flops=float(cached['bf16_flops']))
        except (KeyError, TypeError, ValueError):
            probe = None
    if probe is None or probe.fp32_flops <= 0 or probe.bf16_flops <= 0:
        probe = measure_bf16()
        data = _read_cache(path)
        data[key] = dict(asdict(probe), measured=time.strftime('%Y-%m-%d %H:%M:%S'))
        _write_cache(path, data)
    _probes[key] = probe
    return probe


def bf16_is_faster(device_type: str = 'cpu') -> bool:
    """Whether bf16 autocast should beat fp32 on this device type (see the module doc)."""
    if device_type == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device_type != 'cpu':
        return False
    if cpu_has_amx():
        return True
    return bf16_probe().speedup >= FAST_BF16_SPEEDUP


def clear_cache() -> None:
    """Forget the in-process probe (the file stays)."""
    _probes.clear()


__all__ = ['Bf16Probe', 'FAST_BF16_SPEEDUP', 'bf16_is_faster', 'bf16_probe', 'cache_path',
           'clear_cache', 'cpu_has_amx', 'machine_key', 'matmul_flops_per_s', 'measure_bf16']
