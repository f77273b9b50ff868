#!/usr/bin/env python
"""torchcodec frame decoding on CUDA (NVDEC) against CPU, the same clips and timestamps.

    python benchmarks/gpu_decode.py [--files 2] [--clips 20] [--sets 640x360:44100:250 ...]
        [--data-dir DIR] [--out table.md]

Each clip is what a stage-1 sample reads: 8 frames at 2 fps from a random start of a 10-s
H.264 file (written like benchmarks/data_throughput.py's), through
``open_media(..., backend='torchcodec', read_video=True)``: open, index, decode the frames
(audio stays on the CPU in both cases and is not timed). Rows, timed round-robin on the
same clips with the same start times:

    cpu x1     device='cpu', one decoder thread (a data-loader worker)
    cuda       device='cuda' (NVDEC), frames left on the GPU

The table gives wall-clock ms per clip, clips/s, and how many one-thread CPU workers one GPU's
decoding replaces; plus the largest pixel difference of CUDA frames from CPU frames (NVDEC's
colour conversion is not swscale's). Without CUDA, torchcodec or NVDEC, the CUDA row is
skipped with the reason and the CPU row still runs (exit status 0).
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List, Optional

os.environ.setdefault('OMP_NUM_THREADS', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import data_throughput  # noqa: E402  (its test-file writer)
from mavil.datasets.readers import open_media  # noqa: E402
from mavil.datasets.readers.torchcodec_reader import import_torchcodec  # noqa: E402


def cuda_skip_reason() -> Optional[str]:
    """Why the CUDA row cannot run here, or None."""
    if not torch.cuda.is_available():
        return f'no CUDA device visible to torch {torch.__version__}'
    return None


def clip_times(num_clips: int, seconds: float, seed: int) -> List[np.ndarray]:
    """Per clip the 8 timestamps (2 fps) from a random start, as ClipSampler draws them."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, seconds - 4.0) + np.arange(8) / 2 for _ in range(num_clips)]


def read(path: str, times: np.ndarray, device: str) -> torch.Tensor:
    with open_media(path, backend='torchcodec', device=device) as reader:
        frames = reader.read_frames(times)  # [8, H, W, 3]
        if device.startswith('cuda'):
            if reader.cpu_fallback:
                raise RuntimeError('torchcodec fell back to CPU decoding (no NVDEC for this '
                                   f'stream or no NVCUVID): {reader.cpu_fallback}')
            torch.cuda.synchronize()
    return frames


def time_rows(files: List[str], times: List[np.ndarray], devices: List[str],
              warmup: int = 2) -> Dict[str, List[float]]:
    """Wall seconds per clip and device, round-robin over the devices clip by clip."""
    seconds: Dict[str, List[float]] = {d: [] for d in devices}
    for i, t in enumerate(times):
        for device in devices:
            start = time.perf_counter()
            read(files[i % len(files)], t, device)
            if i >= warmup:
                seconds[device].append(time.perf_counter() - start)
    return seconds


def max_difference(files: List[str], times: List[np.ndarray]) -> int:
    """Largest |CUDA - CPU| pixel level over a few clips."""
    worst = 0
    for i, t in enumerate(times[:4]):
        cpu = read(files[i % len(files)], t, 'cpu')
        gpu = read(files[i % len(files)], t, 'cuda').cpu()
        worst = max(worst, int((cpu.int() - gpu.int()).abs().max()))
    return worst


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--files', type=int, default=2, help='files per set')
    p.add_argument('--clips', type=int, default=20, help='timed clips per row and set')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--seconds', type=float, default=10.0)
    p.add_argument('--sets', nargs='+', type=data_throughput.parse_file_set,
                   default=data_throughput.DEFAULT_SETS, metavar='WxH:RATE:GOP')
    p.add_argument('--data-dir', default=None, help='where to write (and reuse) the files')
    p.add_argument('--out', default=None, help='also write the markdown table here')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    try:
        import_torchcodec()
    except ImportError as err:
        print(f'gpu_decode: skipped, {err} ({err.__cause__})')
        return dict(skipped=str(err))
    skip = cuda_skip_reason()
    devices = ['cpu'] + ([] if skip else ['cuda'])
    data_dir = args.data_dir or tempfile.mkdtemp(prefix='mavil_gpu_decode_')
    os.makedirs(data_dir, exist_ok=True)
    ns = argparse.Namespace(files=args.files, fps=25, preset='medium', crf=23,
                            seconds=args.seconds, seed=args.seed)
    lines = ['| files | row | ms per clip (wall) | clips/s | CPU workers replaced | '
             'max abs diff vs CPU |', '|---|---|---|---|---|---|']
    results = dict(skipped_cuda=skip, sets={})
    for spec in args.sets:
        files = data_throughput.make_file_set(data_dir, spec, ns)
        times = clip_times(args.warmup + args.clips, args.seconds, args.seed)
        if 'cuda' in devices:
            try:
                read(files[0], times[0], 'cuda')  # CUDA context, NVDEC: once, untimed
            except RuntimeError as err:
                skip = f'CUDA decoding unavailable: {err}'
                devices = ['cpu']
                results['skipped_cuda'] = skip
        rows = time_rows(files, times, devices, args.warmup)
        name = f'{spec["width"]}x{spec["height"]}'
        cpu_ms = 1e3 * float(np.median(rows['cpu']))
        set_result = {'cpu x1 ms': cpu_ms}
        lines.append(f'| {name} | cpu x1 | {cpu_ms:.1f} | {1e3 / cpu_ms:.1f} | 1 | 0 |')
        if 'cuda' in devices:
            gpu_ms = 1e3 * float(np.median(rows['cuda']))
            diff = max_difference(files, times)
            set_result.update({'cuda ms': gpu_ms, 'max abs diff': diff})
            lines.append(f'| {name} | cuda | {gpu_ms:.1f} | {1e3 / gpu_ms:.1f} | '
                         f'{cpu_ms / gpu_ms:.1f} | {diff} |')
        results['sets'][name] = set_result
    table = '\n'.join(lines)
    device = torch.cuda.get_device_name(0) if 'cuda' in devices else 'no GPU'
    header = (f'torchcodec decoding, 8 frames at 2 fps per clip, {args.clips} clips per row '
              f'and set, median ({device}; torch {torch.__version__})')
    print(header)
    print(table)
    if skip:
        print(f'cuda row skipped: {skip}')
    if args.out:
        with open(args.out, 'w') as f:
            f.write(header + '\n\n' + table + '\n' + (f'\ncuda row skipped: {skip}\n' if skip
                                                      else ''))
    return results


if __name__ == '__main__':
    main()
