#!/usr/bin/env python
"""Clips per second per data-loader worker for the full stage-1 training sample.

    python benchmarks/data_throughput.py [--clips 30] [--files 4]
        [--sets 640x360:44100:250 360x202:16000:250]
        [--readers decord pyav_baseline pyav torchcodec naive]
        [--config configs/_base_/datasets/audioset_pretrain.py] [--data-dir DIR] [--json]

One sample is the config's training pipeline (App. B.1): the whole audio track -> 16 kHz mono
-> Kaldi fbank 1024 x 128 -> roll, pad, normalise; 8 frames at 2 fps from a random start ->
multi-scale random resized crop to 224 -> flip -> pack.

The files are written here with PyAV, like real 10-second clips: H.264 (libx264 'medium',
FFmpeg's default preset, CRF 23, B-frames, ~420 kbit/s at 640x360) at 25 fps with stereo
AAC, interleaved, index at the front. Content: textured layers panning in opposite
directions and moving objects, so motion compensation and residuals cost about what they
cost in real video. Each file set is ``WIDTHxHEIGHT:SAMPLE_RATE:KEYFRAME_INTERVAL``; the
defaults are 360p as downloaded (640x360, 44.1 kHz) and as the paper's preprocessing leaves
it (longer side 360 px, 16 kHz; tools/data/preprocess.py), both with x264's default keyframe
interval of 250 frames (one keyframe per 10-s clip).

Readers:
    decord   LoadAudioVideo(backend='decord'): frames by decord, audio and header by PyAV.
    pyav     LoadAudioVideo(backend='pyav').
    torchcodec  LoadAudioVideo(backend='torchcodec'): frames by torchcodec (CPU) at PyAV's
             packet index, audio and header by PyAV; ``torchcodec / pyav`` and
             ``torchcodec / decord`` give the ratios measured in the same run.
    pyav_baseline  the plain PyAV frame reading (benchmarks/pyav_baseline.py);
             the ``pyav / pyav_baseline`` line gives the ratio measured in the same run.
    naive    decode the whole file (every frame to RGB and all audio, one pass), then pick
             the sampled frames: what a loader built on ``read_video``-style calls does.

Each file set is timed round-robin over the readers, so background load hits all of them
alike, and every reader gets the same clips (same start times, same crops). Work runs in
this single process with one torch thread and one decoder thread, as in a data-loader
worker. Rates are clips per CPU-second of this process
(``time.process_time``), i.e. per core; wall-clock rates are shown too (lower on a busy
machine). The rows under the total split it per transform, and LoadAudioVideo into opening
(header, index), audio decoding and frame decoding.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from fractions import Fraction
from typing import Callable, Dict, List, Sequence

os.environ.setdefault('OMP_NUM_THREADS', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import av  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

from mavil.datasets.readers import media_reader  # noqa: E402
from mavil.datasets.transforms import loading  # noqa: E402
from mavil.datasets.transforms.loading import LoadAudioVideo  # noqa: E402
from mavil.registry import TRANSFORMS  # noqa: E402

sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
import pyav_baseline  # noqa: E402,F401  (registers the 'pyav_baseline' reader)

READERS = ('decord', 'pyav_baseline', 'pyav', 'torchcodec', 'naive')
# 360p as downloaded (16:9, 44.1 kHz), and as the paper's preprocessing leaves it (longer side
# 360 px, 16 kHz; App. B.1 and tools/data/preprocess.py); x264's default keyframe interval.
DEFAULT_SETS = [dict(width=640, height=360, sample_rate=44100, gop=250),
                dict(width=360, height=202, sample_rate=16000, gop=250)]
DEFAULT_CONFIG = osp.join(ROOT, 'configs', '_base_', 'datasets', 'audioset_pretrain.py')


# --- test files -----------------------------------------------------------------------------
def write_clip(path: str, *, seconds: float = 10.0, width: int = 640, height: int = 360,
               fps: int = 25, sample_rate: int = 44100, gop: int = 250,
               preset: str = 'medium', crf: int = 23, seed: int = 0) -> str:
    """Write an interleaved H.264/AAC MP4 (index at the front) with natural-looking motion:
    a panning textured background, a second texture layer moving the other way (parallax)
    and three moving objects; a gliding tone with some noise. At CRF 23 the video takes
    ~420 kbit/s, typical of 360p H.264."""
    rng = np.random.default_rng(seed)

    def texture(h: int, w: int, smooth: int) -> np.ndarray:
        t = rng.standard_normal((h // 4, w // 4, 3)).astype(np.float32)
        for _ in range(smooth):
            t = (t + np.roll(t, 1, 0) + np.roll(t, -1, 0) + np.roll(t, 1, 1) +
                 np.roll(t, -1, 1)) / 5
        t = np.kron(t, np.ones((4, 4, 1), np.float32))
        return ((t - t.min()) / np.ptp(t) * 200 + 20).astype(np.uint8)

    num_frames = int(seconds * fps)
    pan = width * 2 // 3  # pixels the layers travel over the clip
    background = texture(height + 96, width + pan + 16, smooth=4)
    foreground = texture(height // 2 + 96, width + pan + 16, smooth=1)
    samples_per_frame = 1024  # AAC frame
    with av.open(path, 'w', options={'movflags': 'faststart'}) as container:
        video = container.add_stream('libx264', rate=fps)
        video.width, video.height, video.pix_fmt = width, height, 'yuv420p'
        video.options = {'crf': str(crf), 'preset': preset, 'g': str(gop)}
        audio = container.add_stream('aac', rate=sample_rate)
        audio.layout = 'stereo'
        audio_pos = 0
        tone = 220 * 2 ** rng.integers(0, 3)
        for i in range(num_frames):
            dy, dx = int(12 + 12 * np.sin(i / 30)), int(i * pan / num_frames)
            frame = background[dy:dy + height, dx:dx + width].copy()
            fx = pan - dx
            frame[height // 2:] = foreground[40:40 + height - height // 2, fx:fx + width]
            for k in range(3):
                cy = int(height / 2 + 0.3 * height * np.sin(i / (10 + 3 * k) + k + seed))
                cx = int(width / 2 + 0.35 * width * np.cos(i / (13 + k) + 2 * k + seed))
                frame[max(cy - 30, 0):cy + 30, max(cx - 40, 0):cx + 40] = (200 - 60 * k,
                                                                           60 + 50 * k, 40)
            vf = av.VideoFrame.from_ndarray(frame, format='rgb24')
            vf.pts, vf.time_base = i, Fraction(1, fps)
            container.mux(video.encode(vf))
            end = int(round((i + 1) / fps * sample_rate))  # audio up to this frame's end
            while audio_pos < end:
                n = min(samples_per_frame, end - audio_pos)
                t = (audio_pos + np.arange(n)) / sample_rate
                wave = 0.3 * np.sin(2 * np.pi * tone * (1 + 0.2 * np.sin(2 * t)) * t)
                wave = wave + 0.03 * rng.standard_normal(n)
                af = av.AudioFrame.from_ndarray(np.stack([wave, 0.7 * wave]).astype(np.float32),
                                                format='fltp', layout='stereo')
                af.sample_rate, af.pts = sample_rate, audio_pos
                af.time_base = Fraction(1, sample_rate)
                container.mux(audio.encode(af))
                audio_pos += n
        container.mux(video.encode())
        container.mux(audio.encode())
    return path


def keyframe_times(path: str) -> List[float]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        return [float(p.pts * stream.time_base) for p in container.demux(stream)
                if p.is_keyframe and p.pts is not None]


# --- the baselines ----------------------------------------------------------------------------
class DecodeWholeFile(LoadAudioVideo):
    """``LoadAudioVideo`` that decodes every frame (to RGB) and all audio, then samples."""

    def transform(self, results: dict) -> dict:
        filename = results['filename']
        frames, times, chunks = [], [], []
        with av.open(filename) as container:
            v_stream, a_stream = container.streams.video[0], container.streams.audio[0]
            v_stream.thread_count = self.num_threads
            for frame in container.decode(v_stream, a_stream):
                if isinstance(frame, av.VideoFrame):
                    frames.append(frame.to_ndarray(format='rgb24'))  # [H, W, 3]
                    times.append(frame.time)
                else:
                    chunks.append(frame.to_ndarray())  # [C, n] planar float
            rate = a_stream.rate
        all_frames = np.stack(frames)  # [N, H, W, 3]
        times = np.asarray(times) - times[0]
        fps = len(times) / (times[-1] + times[1]) if len(times) > 1 else 1.0
        clip_times = self.clip_sampler(len(times) / fps)  # [1, T]
        idx = np.clip(np.searchsorted(times, clip_times[0] + 1e-6, side='right') - 1, 0, None)
        video = torch.from_numpy(all_frames[idx]).permute(3, 0, 1, 2)  # [3, T, H, W]
        results.update(
            waveform=torch.from_numpy(np.concatenate(chunks, axis=1)), sample_rate=rate,
            video=video, frame_timestamps=torch.from_numpy(clip_times), num_clips=1,
            original_shape=tuple(video.shape[-2:]), video_fps=fps,
            duration=len(times) / fps)
        return results


# --- timing -----------------------------------------------------------------------------------
class Stopwatch:
    """CPU (process) and wall seconds per named stage, summed over clips."""

    def __init__(self) -> None:
        self.cpu: Dict[str, float] = defaultdict(float)
        self.wall: Dict[str, float] = defaultdict(float)

    def time(self, name: str, fn: Callable, *args, **kwargs):
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.cpu[name] += time.process_time() - cpu
            self.wall[name] += time.perf_counter() - wall


class TimedReader:
    """Proxy of a media reader that times ``read_audio`` and ``read_frames``."""

    def __init__(self, reader, watch: Stopwatch) -> None:
        self._reader, self._watch = reader, watch

    def read_audio(self):
        return self._watch.time('  read audio', self._reader.read_audio)

    def read_frames(self, timestamps):
        return self._watch.time('  read frames', self._reader.read_frames, timestamps)

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._watch.time('  open + close', self._reader.close)


class Pipeline:
    """The config's pipeline with a stopwatch around every transform (and the reader)."""

    def __init__(self, cfg_pipeline: Sequence[dict], reader: str) -> None:
        self.watch = Stopwatch()
        self.transforms = []
        for cfg in cfg_pipeline:
            cfg = dict(cfg)
            if cfg['type'] == 'LoadAudioVideo':
                if reader == 'naive':
                    cfg.pop('type')
                    cfg.pop('backend', None)
                    transform = DecodeWholeFile(**cfg)
                else:
                    transform = TRANSFORMS.build(dict(cfg, backend=reader))
            else:
                transform = TRANSFORMS.build(cfg)
            self.transforms.append((cfg.get('type', 'LoadAudioVideo'), transform))

    def __call__(self, filename: str) -> dict:
        results = dict(filename=filename)
        for name, transform in self.transforms:
            results = self.watch.time(name, transform, results)
        return results


def _open_timed(watch: Stopwatch, open_media: Callable) -> Callable:
    def wrapped(filename, **kwargs):
        return TimedReader(watch.time('  open + close', open_media, filename, **kwargs), watch)

    return wrapped


def run_file_set(files: Sequence[str], cfg_pipeline: Sequence[dict], readers: Sequence[str],
                 clips: int, warmup: int = 2, seed: int = 0) -> Dict[str, Stopwatch]:
    """Time every reader on the same clips: for clip ``i`` each reader's pipeline starts
    from the same random state, so all read the same frames (whose decoding cost grows with
    the clip's start) and crop alike; the readers' rates are paired, their ratio stable."""
    pipelines = {r: Pipeline(cfg_pipeline, r) for r in readers}
    original_open = loading.open_media
    shapes = {}
    try:
        for i in range(warmup + clips):
            for reader, pipeline in pipelines.items():
                if i == warmup:
                    pipeline.watch.__init__()  # forget the warm-up clips
                loading.open_media = _open_timed(pipeline.watch, original_open)
                torch.manual_seed(seed + i)
                packed = pipeline(files[i % len(files)])
                shapes[reader] = {k: tuple(v.shape) for k, v in packed['inputs'].items()}
    finally:
        loading.open_media = original_open
    first = next(iter(shapes.values()))
    assert all(s == first for s in shapes.values()), shapes
    return {r: p.watch for r, p in pipelines.items()}


def stage_rows(watches: Dict[str, Stopwatch], clips: int) -> List[tuple]:
    names = []
    for watch in watches.values():
        names += [n for n in watch.cpu if n not in names]
    # reader sub-stages right after LoadAudioVideo
    top = [n for n in names if not n.startswith('  ')]
    subs = [n for n in names if n.startswith('  ')]
    ordered = []
    for n in top:
        ordered.append(n)
        if n == 'LoadAudioVideo':
            ordered += subs
    return [(n, {r: 1e3 * w.cpu.get(n, float('nan')) / clips for r, w in watches.items()})
            for n in ordered]


def report(title: str, watches: Dict[str, Stopwatch], clips: int) -> dict:
    readers = list(watches)
    total_cpu = {r: sum(v for k, v in w.cpu.items() if not k.startswith('  '))
                 for r, w in watches.items()}
    total_wall = {r: sum(v for k, v in w.wall.items() if not k.startswith('  '))
                  for r, w in watches.items()}
    print(f'\n{title}')
    header = f'{"":28s}' + ''.join(f'{r:>12s}' for r in readers)
    print(header)
    print('-' * len(header))
    print(f'{"clips/s per worker (CPU)":28s}' +
          ''.join(f'{clips / total_cpu[r]:12.1f}' for r in readers))
    print(f'{"clips/s (wall clock)":28s}' +
          ''.join(f'{clips / total_wall[r]:12.1f}' for r in readers))
    print(f'{"ms per clip (CPU)":28s}' +
          ''.join(f'{1e3 * total_cpu[r] / clips:12.1f}' for r in readers))
    rows = stage_rows(watches, clips)
    for name, per_reader in rows:
        print(f'{"  " + name:28s}' + ''.join(
            f'{per_reader[r]:12.1f}' if per_reader[r] == per_reader[r] else f'{"-":>12s}'
            for r in readers))
    ratios = {}
    for new, old in (('pyav', 'pyav_baseline'), ('torchcodec', 'pyav'),
                     ('torchcodec', 'decord')):
        if new in readers and old in readers:
            ratios[f'{new} / {old}'] = total_cpu[old] / total_cpu[new]
    for name, ratio in ratios.items():
        print(f'{name}: {ratio:.2f}x the clips/s per worker (CPU)')
    return dict(
        ratios=ratios,
        clips_per_s_cpu={r: clips / total_cpu[r] for r in readers},
        clips_per_s_wall={r: clips / total_wall[r] for r in readers},
        stages_ms={name: per_reader for name, per_reader in rows})


def find_pipeline(dataset_cfg: dict) -> list:
    """The pipeline of a dataset config, looking inside wrappers (ConcatDataset, ...)."""
    if 'pipeline' in dataset_cfg:
        return list(dataset_cfg['pipeline'])
    inner = dataset_cfg.get('datasets') or [dataset_cfg.get('dataset')]
    if not inner or inner[0] is None:
        raise KeyError(f'no pipeline in dataset config {dataset_cfg}')
    return find_pipeline(inner[0])


def parse_file_set(spec: str) -> dict:
    """'640x360:44100:250' -> frame size, audio rate and keyframe interval of a file set."""
    try:
        size, rate, gop = spec.split(':')
        width, height = (int(x) for x in size.lower().split('x'))
        return dict(width=width, height=height, sample_rate=int(rate), gop=int(gop))
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f'file set {spec!r} is not WIDTHxHEIGHT:SAMPLE_RATE:KEYFRAME_INTERVAL') from err


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=DEFAULT_CONFIG,
                   help='config whose train_dataloader pipeline is timed')
    p.add_argument('--readers', nargs='+', default=list(READERS), choices=READERS)
    p.add_argument('--clips', type=int, default=30, help='timed clips per reader and file set')
    p.add_argument('--warmup', type=int, default=2, help='untimed clips per reader first')
    p.add_argument('--files', type=int, default=4, help='files per set (clips cycle over them)')
    p.add_argument('--sets', nargs='+', type=parse_file_set, default=DEFAULT_SETS,
                   metavar='WxH:RATE:GOP',
                   help='file sets: frame size, audio sample rate, keyframe interval (frames)')
    p.add_argument('--seconds', type=float, default=10.0)
    p.add_argument('--fps', type=int, default=25)
    p.add_argument('--preset', default='medium', help='x264 preset of the test files')
    p.add_argument('--crf', type=int, default=23, help='x264 quality of the test files')
    p.add_argument('--data-dir', default=None,
                   help='where to write (and reuse) the test files; default a temporary dir')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', action='store_true', help='also print the results as JSON')
    return p.parse_args(argv)


def make_file_set(data_dir: str, spec: dict, args: argparse.Namespace) -> List[str]:
    os.makedirs(data_dir, exist_ok=True)
    files = []
    for i in range(args.files):
        name = (f'{spec["width"]}x{spec["height"]}_{args.fps}fps_{spec["sample_rate"]}Hz_'
                f'gop{spec["gop"]}_{args.preset}_crf{args.crf}_{args.seconds:g}s_{i}.mp4')
        path = osp.join(data_dir, name)
        if not osp.isfile(path):
            write_clip(path + '.part.mp4', seconds=args.seconds, fps=args.fps,
                       preset=args.preset, crf=args.crf, seed=args.seed + i, **spec)
            os.replace(path + '.part.mp4', path)
        files.append(path)
    return files


def main(argv=None) -> dict:
    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a data-loader worker's setting
    try:
        return run(args)
    finally:
        torch.set_num_threads(threads)


def available(readers: Sequence[str]) -> List[str]:
    """``readers`` less those whose library cannot load here (each named, with the reason)."""
    kept = []
    for reader in readers:
        try:
            if reader != 'naive':
                media_reader(reader).check_available()
            kept.append(reader)
        except ImportError as err:
            print(f'reader {reader} left out: {err}')
    return kept


def run(args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    args.readers = available(args.readers)
    pipeline = find_pipeline(Config.fromfile(args.config).train_dataloader.dataset)
    data_dir = args.data_dir or tempfile.mkdtemp(prefix='mavil_throughput_')
    os.makedirs(data_dir, exist_ok=True)
    print(f'pipeline: {osp.relpath(args.config, ROOT)} train_dataloader; torch threads '
          f'{torch.get_num_threads()}, decoder threads 1, one process')
    results = {}
    try:
        for spec in args.sets:
            files = make_file_set(data_dir, spec, args)
            keys = keyframe_times(files[0])
            size_kb = np.mean([osp.getsize(f) for f in files]) / 1024
            name = f'{spec["width"]}x{spec["height"]}:{spec["sample_rate"]}:{spec["gop"]}'
            title = (f'{name}  {len(files)} files of {args.seconds:g} s: {spec["width"]}x'
                     f'{spec["height"]} {args.fps} fps H.264 (x264 {args.preset}, CRF {args.crf},'
                     f' keyframe interval {spec["gop"]} frames: {len(keys)} in file 0), AAC '
                     f'{spec["sample_rate"]} Hz stereo, {size_kb:.0f} KB/file; '
                     f'{args.clips} clips per reader')
            watches = run_file_set(files, pipeline, args.readers, args.clips, args.warmup,
                                   args.seed)
            results[name] = report(title, watches, args.clips)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(results))
    return results


if __name__ == '__main__':
    main()
