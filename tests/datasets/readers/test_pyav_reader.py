"""The readers' fast paths (benchmarks/data_throughput.py): one open per file, keyframe jumps,
skipped non-reference frames, and a fallback; all must return exactly the frames a plain
decode of the whole stream gives."""
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from mavil.datasets.readers import base, container_info, open_container, open_media
from tests.datasets.media import backend_params, frame_ids, make_frames, make_tone, write_clip

NUM_FRAMES, FPS = 60, 10
# the backends that index packets and seek to keyframes (decord has an index of its own)
INDEXED = backend_params(['pyav', 'torchcodec'])


@pytest.fixture(scope='module')
def short_gop(tmp_path_factory) -> str:
    """H.264 with B-frames (x264 'medium') and a keyframe every 6 frames, plus AAC."""
    path = str(tmp_path_factory.mktemp('gop') / 'gop6.mp4')
    frames = make_frames(NUM_FRAMES, 48, 64)
    with av.open(path, 'w') as container:
        video = container.add_stream('libx264', rate=FPS)
        video.width, video.height, video.pix_fmt = 64, 48, 'yuv420p'
        video.options = {'preset': 'medium', 'g': '6', 'keyint_min': '6', 'bf': '3'}
        audio = container.add_stream('aac', rate=16000)
        audio.layout = 'mono'
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(frame, format='rgb24')
            vf.pts, vf.time_base = i, Fraction(1, FPS)
            container.mux(video.encode(vf))
        container.mux(video.encode())
        wave = make_tone(NUM_FRAMES / FPS, 16000)
        for start in range(0, wave.shape[1], 1024):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[:, start:start + 1024]),
                                            format='fltp', layout='mono')
            af.sample_rate, af.pts, af.time_base = 16000, start, Fraction(1, 16000)
            container.mux(audio.encode(af))
        container.mux(audio.encode())
    return path


def decode_all(path: str) -> torch.Tensor:
    with av.open(path) as container:
        return torch.from_numpy(np.stack(
            [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]))


def test_file_has_b_frames_and_keyframes(short_gop):
    with av.open(short_gop) as container:
        types = [int(f.pict_type) for f in container.decode(video=0)]
    with av.open(short_gop) as container:
        keys = [p.pts for p in container.demux(video=0) if p.is_keyframe]
    assert 3 in types and len(keys) >= NUM_FRAMES // 6  # AV_PICTURE_TYPE_B = 3


@pytest.mark.parametrize('backend', backend_params(['pyav', 'decord', 'torchcodec']))
def test_frames_equal_a_full_decode(short_gop, backend):
    reference = decode_all(short_gop)  # [N, H, W, 3]
    rng = np.random.default_rng(0)
    with open_media(short_gop, backend=backend) as reader:
        for _ in range(10):  # one reader, many reads (decoder reused after seeks)
            start = rng.uniform(0, 2.0)
            times = np.concatenate([start + np.arange(8) / 2, rng.uniform(0, 6, 3)])
            frames = reader.read_frames(times)
            idx = reader.frame_indices(times)
            assert torch.equal(frames, reference[idx])
            assert frame_ids(frames) == idx.tolist()


def test_misleading_keyframe_index_falls_back_to_full_decode(short_gop):
    reference = decode_all(short_gop)
    with open_media(short_gop, backend='pyav') as reader:
        reader._key_pts = reader._frame_pts[-1:]  # every seek now lands after the frames
        times = [0.5, 1.5, 2.5]
        assert torch.equal(reader.read_frames(times), reference[reader.frame_indices(times)])


@pytest.mark.parametrize('backend', backend_params(['pyav', 'decord', 'torchcodec']))
def test_one_open_and_repeatable_audio(short_gop, backend, monkeypatch):
    opened = []
    real_open = av.open
    monkeypatch.setattr(av, 'open', lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    with open_media(short_gop, backend=backend) as reader:
        first, rate = reader.read_audio()
        reader.read_frames([0.0, 3.0])
    assert len(opened) == 1  # header, index, audio and (PyAV) frames from one container
    with open_media(short_gop, backend=backend) as reader:
        assert torch.equal(reader.read_audio()[0], first)
        assert torch.equal(reader.read_audio()[0], first)  # a second read is the same
    assert rate == 16000 and first.shape[1] == pytest.approx(16000 * NUM_FRAMES / FPS, abs=2048)


@pytest.fixture(scope='module')
def long_gop(tmp_path_factory) -> str:
    """x264 defaults (B-pyramid: B-frames other frames refer to) with one keyframe, 4 s."""
    path = str(tmp_path_factory.mktemp('long') / 'long.mp4')
    frames = make_frames(100, 48, 64)
    with av.open(path, 'w') as container:
        video = container.add_stream('libx264', rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, 'yuv420p'
        video.options = {'preset': 'medium', 'g': '250'}
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(frame, format='rgb24')
            vf.pts, vf.time_base = i, Fraction(1, 25)
            container.mux(video.encode(vf))
        container.mux(video.encode())
    return path


@pytest.mark.parametrize('backend', INDEXED)
@pytest.mark.parametrize('times', [
    np.arange(8) / 2,  # distinct frames in time order: returned without a gather
    2.5 + np.arange(8) / 2,  # runs past the end: the last frame repeats
    np.array([3.0, 0.0, 1.0, 1.01, 3.9]),  # out of order, a repeat
])
def test_sampled_frames_equal_a_full_decode_with_one_keyframe(long_gop, times, backend):
    reference = decode_all(long_gop)  # [N, H, W, 3]
    with open_media(long_gop, backend=backend) as reader:
        assert reader.probe_decode is False
        idx = reader.frame_indices(times)
        # the frame on screen at each time: the last one starting at or before it
        assert idx.tolist() == [min(int(np.floor(t * 25 + 1e-6)), 99) for t in times]
        assert torch.equal(reader.read_frames(times), reference[idx])


def test_open_without_probing_decode_reads_the_same_header(short_gop, long_gop):
    for path in (short_gop, long_gop):
        with av.open(path) as container:
            expected = container_info(container)
        with open_container(path, probe_decode=False) as container:
            assert container_info(container) == expected


def test_open_without_probing_decode_falls_back(short_gop, monkeypatch):
    opened = []
    real_open = av.open
    monkeypatch.setattr(av, 'open', lambda *a, **k: opened.append(k) or real_open(*a, **k))
    monkeypatch.setattr(base, '_has_stream_parameters', lambda container: False)
    with open_container(short_gop, probe_decode=False) as container:
        assert container.streams.video[0].codec_context.format is not None
    assert opened == [{'options': {'skip_frame': 'all'}}, {}]  # a second, ordinary open


@pytest.mark.parametrize('backend', INDEXED)
def test_frames_of_files_of_different_sizes_in_turn(long_gop, tmp_path, backend):
    """The RGB converter is reused across files (one per thread): sizes change in between."""
    other = str(write_clip(tmp_path / 'other.mp4', seconds=2.0, fps=10.0, size=(36, 80),
                           audio=False))
    times = np.array([0.0, 0.5, 1.0, 1.5])
    for path in (long_gop, other, long_gop, other):
        reference = decode_all(path)
        with open_media(path, backend=backend) as reader:
            frames = reader.read_frames(times)
            assert torch.equal(frames, reference[reader.frame_indices(times)])
    assert frames.shape[1:] == (36, 80, 3)
