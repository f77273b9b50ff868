#!/usr/bin/env python
"""Clips per second per core for the stage-1 training sample: the clip cache vs the PyAV
reader on the video files vs a CAV-MAE-style layout (JPEG frame files + 16 kHz wav), on the
same clips in one run; bytes per clip; build rate.

    python benchmarks/cache_throughput.py [--files 8] [--clips 40] [--set 640x360:44100:250]
        [--rows pyav jpeg_wav cache cache_pcm cache_raw] [--backend NAME] [--data-dir DIR]
        [--build-backends pyav torchcodec ...] [--json]

The sample is the config's training pipeline (default: AudioSet pre-training; App. B.1): the
10-s audio -> 1024 x 128 fbank -> roll, pad, normalise; 8 frames at 2 fps -> random resized
crop 224 -> flip -> pack. Rows differ only in the loading step (and what it leaves to do):

    pyav       LoadAudioVideo(backend='pyav') on the H.264/AAC files (benchmarks/
               data_throughput.py writes them: 10 s, 25 fps, x264 CRF 23, stereo AAC).
    jpeg_wav   CAV-MAE's layout: each clip's frames at 2 fps as JPEG files (short side 224,
               the cache's JPEG quality) and its audio as a 16 kHz mono 16-bit wav; the
               loader reads the wav and the 8 sampled JPEG files (decoded as the cache
               decodes its frames); the fbank is computed.
    cache      LoadCachedClip on a cache built for this pipeline (tools/data/build_cache.py
               defaults: JPEG at short side 224, quality by pixel error; the fbank as float16).
    cache_pcm  the same with 16-bit PCM audio (the fbank computed per sample).
    cache_raw  raw uint8 frames instead of JPEG (fbank16).

Timing: one process, one torch thread (a data-loader worker's setting), round-robin over the
rows clip by clip, every row from the same random state per clip (same start, crop, flip);
rates are clips per CPU-second of this process (``time.process_time``), i.e. per core. The
cache build runs in this process too (``build_cache(workers=1)``): its rate is clips per
CPU-second of one core. Data sits in the page cache after the first pass (a warm-up pass
reads every clip once), so the figures are decode and transform costs, not disk reads.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
import time
import wave
from typing import Dict, List

os.environ.setdefault('OMP_NUM_THREADS', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
import simplejpeg  # noqa: E402

import data_throughput as files_bench  # noqa: E402
from mavil.datasets.cache import (build_cache, choose_jpeg_quality,  # noqa: E402
                                  settings_from_pipelines)
from mavil.datasets.cache.format import decode_frames_into, encode_frame  # noqa: E402
from mavil.datasets.cache.writer import clip_audio, source_frames  # noqa: E402
from mavil.datasets.readers import open_media  # noqa: E402
from mavil.datasets.transforms import ClipSampler  # noqa: E402
from mavil.datasets.transforms.base import BaseTransform  # noqa: E402
from mavil.registry import TRANSFORMS  # noqa: E402

ROWS = ('pyav', 'jpeg_wav', 'cache', 'cache_pcm', 'cache_raw')
CACHE_ROWS = dict(cache=dict(audio='auto', frame_format='jpeg'),
                  cache_pcm=dict(audio='pcm16', frame_format='jpeg'),
                  cache_raw=dict(audio='auto', frame_format='raw'))


# --- the CAV-MAE-style layout -----------------------------------------------------------------
def write_jpeg_wav(filename: str, out_dir: str, settings, quality: int) -> None:
    """``out_dir/frame_<k>.jpg`` (2 fps grid, short side ``settings.short_side``) and
    ``out_dir/audio.wav`` (16 kHz mono int16), from one decode of ``filename``."""
    os.makedirs(out_dir, exist_ok=True)
    grid_only = settings.__class__.from_dict(dict(settings.to_dict(), test_samplers=()))
    with open_media(filename, backend=settings.backend) as reader:
        _, frames, _ = source_frames(reader, grid_only)
        for k, frame in enumerate(frames):
            with open(osp.join(out_dir, f'frame_{k}.jpg'), 'wb') as f:
                f.write(encode_frame(frame, 'jpeg', quality))
        pcm_settings = grid_only.__class__.from_dict(dict(grid_only.to_dict(),
                                                          audio_format='pcm16', fbank=None))
        waveform, _ = clip_audio(reader, pcm_settings, filename)
    pcm = torch.round(waveform[0].clamp(-1, 1) * 32767).to(torch.int16).numpy()
    with wave.open(osp.join(out_dir, 'audio.wav'), 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(settings.sample_rate)
        w.writeframes(pcm.tobytes())


class LoadJpegWav(BaseTransform):
    """A CAV-MAE-style loader: the wav, and the JPEG files of the sampled frames (``results
    ['filename']`` is the clip's folder); the same outputs as ``LoadAudioVideo``."""

    def __init__(self, *, clip_sampler: dict, fps: float = 2.0) -> None:
        self.clip_sampler = ClipSampler(**clip_sampler)
        self.fps = fps

    def transform(self, results: dict) -> dict:
        folder = results['filename']
        with wave.open(osp.join(folder, 'audio.wav'), 'rb') as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        results['waveform'] = torch.from_numpy(pcm.astype(np.float32) / 32767.0)[None]
        results['sample_rate'] = rate
        count = len([n for n in os.listdir(folder) if n.endswith('.jpg')])
        times = self.clip_sampler(count / self.fps)  # [1, T]
        index = np.minimum((times[0] * self.fps + 1e-6).astype(int), count - 1)
        blobs = []
        for k in index:
            with open(osp.join(folder, f'frame_{k}.jpg'), 'rb') as f:
                blobs.append(f.read())
        height, width, _, _ = simplejpeg.decode_jpeg_header(blobs[0])
        video = torch.empty(len(blobs), height, width, 3, dtype=torch.uint8)  # [T, h, w, 3]
        decode_frames_into(blobs, 'jpeg', video)  # the cache's JPEG decoder
        results['video'] = video.permute(3, 0, 1, 2)  # [3, T, h, w], as LoadAudioVideo
        results['frame_timestamps'] = torch.from_numpy(times)
        results.update(num_clips=1, original_shape=tuple(video.shape[1:3]), video_fps=self.fps,
                       duration=count / self.fps)
        return results


# --- timing -----------------------------------------------------------------------------------
class Rows:
    """Per row: its transforms (the loading step swapped) and a stopwatch."""

    def __init__(self, pipeline: List[dict], loaders: Dict[str, object]) -> None:
        self.rows = {}
        for row, loader in loaders.items():
            steps = [('load', loader)]
            steps += [(cfg['type'], TRANSFORMS.build(dict(cfg))) for cfg in pipeline[1:]]
            self.rows[row] = (steps, files_bench.Stopwatch())

    def run(self, row: str, filename: str) -> dict:
        steps, watch = self.rows[row]
        results = dict(filename=filename)
        for name, transform in steps:
            results = watch.time(name, transform, results)
        return results


def folder_bytes(path: str) -> int:
    return sum(osp.getsize(osp.join(path, n)) for n in os.listdir(path))


def run(args: argparse.Namespace) -> dict:
    cfg = Config.fromfile(args.config)
    pipeline = files_bench.find_pipeline(cfg.train_dataloader.dataset)
    pipelines = [pipeline] + ([list(cfg.test_pipeline)] if 'test_pipeline' in cfg else [])
    clip = dict(pipeline[0]['clip_sampler'])
    data_dir = args.data_dir or tempfile.mkdtemp(prefix='mavil_cache_bench_')
    work = tempfile.mkdtemp(prefix='mavil_cache_rows_')
    try:
        sources = files_bench.make_file_set(data_dir, args.set, args)
        key_of = {f: osp.basename(f) for f in sources}
        out = dict(machine=machine(), files=len(sources), clips=args.clips, builds={})
        loaders = {}
        # the JPEG quality (lowest within the pixel error), chosen once and timed apart
        cpu = time.process_time()
        quality, error = choose_jpeg_quality(sources, settings_from_pipelines(pipelines))
        out['jpeg'] = dict(quality=quality, pixel_error=error,
                           choose_s_cpu=time.process_time() - cpu)
        for row in [r for r in args.rows if r in CACHE_ROWS]:
            settings = settings_from_pipelines(pipelines, jpeg_quality=quality,
                                               backend=args.backend, **CACHE_ROWS[row])
            cpu = time.process_time()
            built = build_cache([(key_of[f], f) for f in sources], osp.join(work, row),
                                settings, data_prefix=data_dir, workers=1, progress=False)
            cpu = time.process_time() - cpu
            out['builds'][row] = dict(clips_per_s_cpu=len(sources) / cpu,
                                      bytes_per_clip=built.bytes / len(sources),
                                      audio=settings.audio_format)
            loaders[row] = TRANSFORMS.build(dict(type='LoadCachedClip',
                                                 cache=osp.join(work, row), clip_sampler=clip))
        if args.build_backends:
            out['build_backends'] = compare_builds(args.build_backends, sources, key_of,
                                                   data_dir, work, pipelines, quality)
        folders = {}
        if 'jpeg_wav' in args.rows:
            settings = settings_from_pipelines(pipelines, audio='pcm16', backend=args.backend)
            cpu = time.process_time()
            for f in sources:
                folders[f] = osp.join(work, 'jpeg_wav', key_of[f])
                write_jpeg_wav(f, folders[f], settings, quality)
            cpu = time.process_time() - cpu
            out['builds']['jpeg_wav'] = dict(
                clips_per_s_cpu=len(sources) / cpu, audio='wav int16',
                bytes_per_clip=np.mean([folder_bytes(d) for d in folders.values()]))
            loaders['jpeg_wav'] = LoadJpegWav(clip_sampler=clip)
        if 'pyav' in args.rows:
            loaders['pyav'] = TRANSFORMS.build(dict(pipeline[0], backend='pyav'))
            out['builds']['pyav'] = dict(bytes_per_clip=np.mean([osp.getsize(f)
                                                                 for f in sources]))
        rows = Rows(pipeline, {r: loaders[r] for r in args.rows})
        shapes = {}
        for i in range(len(sources) + args.clips):  # a warm-up pass over every clip first
            if i == len(sources):
                for _, watch in rows.rows.values():
                    watch.__init__()
            source = sources[i % len(sources)]
            for row in args.rows:
                torch.manual_seed(args.seed + i)
                packed = rows.run(row, folders[source] if row == 'jpeg_wav' else source)
                shapes[row] = {k: tuple(v.shape) for k, v in packed['inputs'].items()}
        assert len({json.dumps(s, sort_keys=True) for s in shapes.values()}) == 1, shapes
        print(f'JPEG quality {quality} (mean absolute pixel error {error:.2f} of 255 on the '
              f'first clips; chosen in {out["jpeg"]["choose_s_cpu"]:.1f} CPU-s, apart from the '
              'build rates)')
        out['rows'] = report(rows, args.clips, out['builds'])
        out['shapes'] = next(iter(shapes.values()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    return out


def compare_builds(backends: List[str], sources: List[str], key_of: dict, data_dir: str,
                   work: str, pipelines: list, quality: int, repeats: int = 2) -> dict:
    """Build the default cache with each reader backend, alternating (A B A B), in this
    process; prints and returns clips per CPU-second per backend and build."""
    rates = {b: [] for b in backends}
    for i in range(repeats):
        for backend in backends:
            settings = settings_from_pipelines(pipelines, jpeg_quality=quality, backend=backend)
            folder = osp.join(work, f'build_{backend}_{i}')
            cpu = time.process_time()
            build_cache([(key_of[f], f) for f in sources], folder, settings,
                        data_prefix=data_dir, workers=1, progress=False)
            rates[backend].append(len(sources) / (time.process_time() - cpu))
            shutil.rmtree(folder, ignore_errors=True)
    print('cache build, clips/s per core by reader backend (alternating): ' + '; '.join(
        f'{b} ' + ' / '.join(f'{r:.1f}' for r in rates[b]) for b in backends))
    return rates


def report(rows: Rows, clips: int, builds: dict) -> dict:
    names = list(rows.rows)
    cpu = {r: sum(w.cpu.values()) for r, (_, w) in rows.rows.items()}
    wall = {r: sum(w.wall.values()) for r, (_, w) in rows.rows.items()}
    stages = []
    for r, (steps, _) in rows.rows.items():
        stages += [n for n, _ in steps if n not in stages]
    header = f'{"":28s}' + ''.join(f'{r:>11s}' for r in names)
    print(header + '\n' + '-' * len(header))

    def line(label: str, values: Dict[str, float], fmt: str = '{:11.1f}') -> None:
        print(f'{label:28s}' + ''.join(fmt.format(values[r]) if r in values and
                                       values[r] == values[r] else f'{"-":>11s}' for r in names))

    line('clips/s per core (CPU)', {r: clips / cpu[r] for r in names})
    line('clips/s (wall clock)', {r: clips / wall[r] for r in names})
    line('ms per clip (CPU)', {r: 1e3 * cpu[r] / clips for r in names})
    per_stage = {}
    for stage in stages:
        per_stage[stage] = {r: 1e3 * w.cpu[stage] / clips for r, (_, w) in rows.rows.items()
                            if stage in w.cpu}
        line('  ' + stage, per_stage[stage])
    line('KB per clip stored', {r: builds[r]['bytes_per_clip'] / 1e3 for r in names if r in builds})
    line('build clips/s per core', {r: builds[r].get('clips_per_s_cpu', float('nan'))
                                    for r in names if r in builds})
    rates = {r: clips / cpu[r] for r in names}
    ratios = {f'{r} / {base}': rates[r] / rates[base] for base in ('pyav', 'jpeg_wav')
              if base in rates for r in names if r.startswith('cache')}
    for name, ratio in ratios.items():
        print(f'{name}: {ratio:.2f}x the clips/s per core')
    return dict(clips_per_s_cpu=rates, clips_per_s_wall={r: clips / wall[r] for r in names},
                stages_ms=per_stage, ratios=ratios)


def machine() -> dict:
    cpu = 'unknown'
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f
                        if line.startswith('model name')), cpu)
    return dict(cpu=cpu, cores=os.cpu_count(), load=os.getloadavg())


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=files_bench.DEFAULT_CONFIG,
                   help='config whose train_dataloader pipeline (and test_pipeline) is used')
    p.add_argument('--rows', nargs='+', default=list(ROWS), choices=ROWS)
    p.add_argument('--files', type=int, default=8, help='source clips')
    p.add_argument('--clips', type=int, default=40, help='timed clips per row')
    p.add_argument('--set', type=files_bench.parse_file_set,
                   default=files_bench.DEFAULT_SETS[0], metavar='WxH:RATE:GOP',
                   help='source files: frame size, audio rate, keyframe interval')
    p.add_argument('--seconds', type=float, default=10.0)
    p.add_argument('--fps', type=int, default=25)
    p.add_argument('--preset', default='medium', help='x264 preset of the source files')
    p.add_argument('--crf', type=int, default=23)
    p.add_argument('--data-dir', default=None, help='where to write (and reuse) the sources')
    p.add_argument('--build-backends', nargs='+', default=[],
                   help='also build the default cache with each of these reader backends, '
                   'alternating, and print the build rates side by side')
    p.add_argument('--backend', default=None,
                   help="media reader the caches are built with (a MEDIA_READERS name; default: "
                   "the config's)")
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', action='store_true', help='also print the results as JSON')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a data-loader worker's setting
    try:
        info = machine()
        print(f'{info["cpu"]}, {info["cores"]} cores, load {info["load"][0]:.2f}; one process, '
              f'torch threads 1; {args.files} files of {args.seconds:g} s '
              f'{args.set["width"]}x{args.set["height"]}, {args.clips} timed clips per row')
        results = run(args)
        results['load_after'] = os.getloadavg()
    finally:
        torch.set_num_threads(threads)
    if args.json:
        print(json.dumps(results, default=float))
    return results


if __name__ == '__main__':
    main()
