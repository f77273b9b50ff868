#!/usr/bin/env python
"""Re-encode videos as the paper did (App. B.1): 360p video, 16 kHz audio. PyAV only.

    python tools/data/preprocess.py SRC_DIR DST_DIR [--workers N] [--size 360]
        [--side longer|shorter] [--sample-rate 16000] [--mono] [--crf 23] [--preset medium]
        [--keyint N] [--allow-truncated] [--overwrite]

App. B.1: "we resized the video tracks to 360p while maintaining the aspect ratio and
adjusting the longer dimension to 360 pixels. We also resampled the audio tracks to a
sampling rate of 16K". We follow the wording: by default the LONGER side becomes ``--size``
(360) pixels, so a 16:9 video becomes 360x202 and a 9:16 one 202x360. (Conventional "360p",
a 360-pixel height, i.e. 640x360 for 16:9, is ``--side shorter``.) Video smaller than that
is not enlarged. Sides are rounded to even numbers (4:2:0 chroma). The aspect ratio and the
frame timestamps (so the frame rate, constant or variable) are kept.

Output: ``DST_DIR/<same relative path>.mp4``, H.264 (libx264, CRF 23, preset 'medium' as
FFmpeg's defaults, x264's default keyframe interval) + AAC at ``--sample-rate`` (channels kept,
more than two mixed down to stereo; ``--mono`` mixes to one), index at the front
(faststart). A shorter keyframe interval (``--keyint 25``) makes files ~17% larger and training reads
~1.25x faster with the PyAV reader (it decodes from the keyframe before the first sampled
frame; benchmarks/data_throughput.py, 8 frames at 2 fps, README performance section).

Every .mp4/.mkv/.webm/.avi file under SRC_DIR is processed on ``--workers`` processes (one
encoder thread each). A file whose output exists is skipped (outputs are written under a
temporary name and renamed when complete, so an interrupted run leaves no half file that
would count as done). A source that decodes to less than its header declares (a truncated
download) fails unless ``--allow-truncated``. Failures are printed and listed in
``DST_DIR/preprocess_errors.csv`` (``filename,reason``).
"""
import argparse
import csv
import os
import os.path as osp
import sys
import time
from collections import Counter
from typing import Optional, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # _common
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

import av  # noqa: E402

from _common import VIDEO_EXTENSIONS, parallel_map, scan_videos  # noqa: E402
from mavil.datasets.readers import (CorruptMediaError, MediaError, container_info,  # noqa: E402
                                    open_container)

TRUNCATION_TOLERANCE = 0.5  # s


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def output_size(width: int, height: int, size: int = 360, side: str = 'longer') -> Tuple[int, int]:
    """(width, height) with the ``side`` ('longer' or 'shorter') side ``size`` pixels, the
    aspect ratio kept, never enlarged, both even."""
    reference = max(width, height) if side == 'longer' else min(width, height)
    scale = min(1.0, size / reference)
    return _even(width * scale), _even(height * scale)


def transcode(src: str, dst: str, *, size: int = 360, side: str = 'longer',
              sample_rate: int = 16000, mono: bool = False, crf: int = 23,
              preset: str = 'medium', keyint: Optional[int] = None,
              audio_bitrate: int = 64000, allow_truncated: bool = False) -> None:
    """Re-encode ``src`` into ``dst`` (MP4: H.264 + AAC); raises on failure, leaving no
    ``dst``."""
    part = f'{dst}.part.mp4'
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    try:
        with open_container(src) as inp:
            info = container_info(inp)
            decoded = _transcode_streams(inp, part, size=size, side=side,
                                         sample_rate=sample_rate, mono=mono, crf=crf,
                                         preset=preset, keyint=keyint,
                                         audio_bitrate=audio_bitrate)
        if not allow_truncated:
            declared = dict(video=info.video_duration, audio=info.audio_duration)
            for kind, seconds in decoded.items():
                if declared[kind] and seconds < declared[kind] - TRUNCATION_TOLERANCE:
                    raise CorruptMediaError(
                        src, f'{kind} decodes to {seconds:.2f} s but the header declares '
                        f'{declared[kind]:.2f} s (truncated file; --allow-truncated keeps '
                        'what decodes)')
        os.replace(part, dst)
    finally:
        if osp.exists(part):
            os.remove(part)


def _transcode_streams(inp, out_path: str, *, size, side, sample_rate, mono, crf, preset,
                       keyint, audio_bitrate) -> dict:
    """Decode the first video and audio streams of ``inp`` and encode them into
    ``out_path``; returns the seconds of each stream decoded."""
    v_in = inp.streams.video[0] if inp.streams.video else None
    a_in = inp.streams.audio[0] if inp.streams.audio else None
    if v_in is None and a_in is None:
        raise CorruptMediaError(inp.name, 'has neither a video nor an audio stream')
    decoded = {}
    with av.open(out_path, 'w', format='mp4', options={'movflags': 'faststart'}) as out:
        streams = []
        if v_in is not None:
            v_in.thread_count = 1
            width, height = output_size(v_in.codec_context.width, v_in.codec_context.height,
                                        size, side)
            rate = v_in.average_rate or v_in.guessed_rate or 25
            v_out = out.add_stream('libx264', rate=rate)
            v_out.width, v_out.height, v_out.pix_fmt = width, height, 'yuv420p'
            v_out.time_base = v_in.time_base  # keep every frame's timestamp
            v_out.options = dict({'crf': str(crf), 'preset': preset, 'threads': '1'},
                                 **({'g': str(keyint)} if keyint else {}))
            streams.append(v_in)
            video_start = video_end = None
        if a_in is not None:
            layout = 'mono' if mono or a_in.channels == 1 else 'stereo'
            a_out = out.add_stream('aac', rate=sample_rate)
            a_out.layout = layout
            a_out.bit_rate = audio_bitrate
            resampler = av.AudioResampler(format='fltp', layout=layout, rate=sample_rate)
            streams.append(a_in)
            samples = 0
        for packet in inp.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    if frame.pts is None:
                        continue
                    time = float(frame.pts * frame.time_base)
                    video_start = time if video_start is None else min(video_start, time)
                    video_end = time if video_end is None else max(video_end, time)
                    scaled = frame.reformat(width=width, height=height, format='yuv420p',
                                            interpolation='BICUBIC')
                    scaled.pts, scaled.time_base = frame.pts, frame.time_base
                    out.mux(v_out.encode(scaled))
                else:
                    for chunk in resampler.resample(frame):
                        samples += chunk.samples
                        out.mux(a_out.encode(chunk))
        if v_in is not None:
            out.mux(v_out.encode())
            if video_start is None:
                raise CorruptMediaError(inp.name, 'video stream decodes to no frames')
            decoded['video'] = video_end - video_start + 1 / float(rate)
        if a_in is not None:
            for chunk in resampler.resample(None):
                samples += chunk.samples
                out.mux(a_out.encode(chunk))
            out.mux(a_out.encode())
            decoded['audio'] = samples / sample_rate
    return decoded


def process(job: tuple) -> tuple:
    """Transcode one file; returns (name, status, reason) with status done | skipped | failed."""
    src_root, dst_root, name, out_name, options, overwrite = job
    dst = osp.join(dst_root, out_name)
    if not overwrite and osp.isfile(dst) and osp.getsize(dst) > 0:
        return name, 'skipped', ''
    try:
        transcode(osp.join(src_root, name), dst, **options)
    except MediaError as err:
        return name, 'failed', err.problem
    except av.error.FFmpegError as err:
        return name, 'failed', f'FFmpeg: {err}'
    except Exception as err:  # a bug or an unforeseen failure: report it, keep going
        return name, 'failed', f'{type(err).__name__}: {err}'
    return name, 'done', ''


def check_folders(src_root: str, dst_root: str) -> None:
    """Refuse a DST_DIR that is SRC_DIR or overlaps it, through symlinks too: outputs would
    replace the sources (``--overwrite``) or be re-encoded as sources on the next scan."""
    if not osp.isdir(src_root):
        raise SystemExit(f'SRC_DIR {src_root} is not a folder')
    src, dst = osp.realpath(src_root), osp.realpath(dst_root)  # symlinks resolved
    shown = f'SRC_DIR {src_root} (real path {src}), DST_DIR {dst_root} (real path {dst})'
    if src == dst:
        raise SystemExit(f'DST_DIR is SRC_DIR: {shown}; give a separate output folder')
    if osp.commonpath([src, dst]) == src:
        raise SystemExit(f'DST_DIR lies inside SRC_DIR: {shown}; outputs would be scanned '
                         'as sources: give a folder outside SRC_DIR')
    if osp.commonpath([src, dst]) == dst:
        raise SystemExit(f'SRC_DIR lies inside DST_DIR: {shown}; outputs could replace '
                         'sources: give a folder outside SRC_DIR')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[1:]))
    p.add_argument('src_dir')
    p.add_argument('dst_dir')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    p.add_argument('--size', '--height', type=int, default=360, dest='size',
                   help='pixels of the --side side (App. B.1: the longer side is 360)')
    p.add_argument('--side', choices=('longer', 'shorter'), default='longer')
    p.add_argument('--sample-rate', type=int, default=16000)
    p.add_argument('--mono', action='store_true', help='mix the audio down to one channel')
    p.add_argument('--crf', type=int, default=23)
    p.add_argument('--preset', default='medium', help='x264 preset')
    p.add_argument('--keyint', type=int, default=None,
                   help='frames between keyframes (default: x264 default)')
    p.add_argument('--audio-bitrate', type=int, default=64000, help='AAC bits per second')
    p.add_argument('--allow-truncated', action='store_true',
                   help='keep what decodes of sources shorter than their header says')
    p.add_argument('--overwrite', action='store_true', help='redo outputs that exist')
    p.add_argument('--extensions', nargs='+', default=list(VIDEO_EXTENSIONS))
    p.add_argument('--errors', help='failure list (default DST_DIR/preprocess_errors.csv)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.time()
    src_root, dst_root = osp.abspath(args.src_dir), osp.abspath(args.dst_dir)
    check_folders(src_root, dst_root)
    names, _ = scan_videos(src_root, args.extensions)
    options = dict(size=args.size, side=args.side, sample_rate=args.sample_rate, mono=args.mono,
                   crf=args.crf, preset=args.preset, keyint=args.keyint,
                   audio_bitrate=args.audio_bitrate, allow_truncated=args.allow_truncated)
    results, jobs, outputs = [], [], {}
    for name in names:
        out_name = osp.splitext(name)[0] + '.mp4'
        if out_name in outputs:  # a.mkv and a.webm would both become a.mp4
            results.append((name, 'failed', f'same output {out_name} as {outputs[out_name]}'))
            continue
        outputs[out_name] = name
        jobs.append((src_root, dst_root, name, out_name, options, args.overwrite))
    results += list(parallel_map(process, jobs, workers=args.workers, total=len(jobs),
                                 desc='re-encoding', chunksize=1))
    failures = sorted((r for r in results if r[1] == 'failed'), key=lambda r: r[0])
    os.makedirs(dst_root, exist_ok=True)
    errors_path = args.errors or osp.join(dst_root, 'preprocess_errors.csv')
    with open(errors_path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['filename', 'reason'])
        writer.writerows((name, reason) for name, _, reason in failures)
    counts = Counter(status for _, status, _ in results)
    print(f'{len(names)} videos under {args.src_dir} in {time.time() - start:.1f} s with '
          f'{args.workers} worker(s): {counts["done"]} re-encoded, {counts["skipped"]} already '
          f'done, {counts["failed"]} failed (-> {errors_path})')
    for name, _, reason in failures:
        print(f'  {name}: {reason}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
