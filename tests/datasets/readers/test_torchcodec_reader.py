"""The torchcodec backend beyond the shared reader contract (test_readers.py and
test_pyav_reader.py run that over it too): its index check, the whole training sample equal to
the PyAV backend's, its options, and clear errors when torchcodec, FFmpeg or CUDA is absent."""
import builtins
import sys

import numpy as np
import pytest
import torch

from mavil.datasets.readers import CorruptMediaError, open_media
from mavil.datasets.readers.torchcodec_reader import import_torchcodec
from mavil.datasets.transforms import LoadAudioVideo
from mavil.registry import TRANSFORMS
from tests.datasets.media import backend_params, write_clip

needs_torchcodec = pytest.mark.parametrize('backend', backend_params(['torchcodec']))


@needs_torchcodec
def test_frames_checked_against_the_index(media, backend):
    """torchcodec decodes by frame index; a frame whose timestamp is not the indexed one (the
    two indexes disagree) must raise naming the file, never come back as another frame."""
    with open_media(media['mp4'], backend=backend) as reader:
        reader._frame_pts = reader._frame_pts + 1  # the index now names other timestamps
        with pytest.raises(CorruptMediaError, match=r'mp4\.mp4: torchcodec returned frames at'):
            reader.read_frames([0.0, 1.0])


@needs_torchcodec
def test_reads_widths_decord_cannot(tmp_path, backend):
    path = write_clip(tmp_path / 'w48.mp4', size=(32, 48))
    times = [0.0, 0.5, 1.9]
    with open_media(path, backend='pyav') as reader:
        expected = reader.read_frames(times)
    with open_media(path, backend=backend) as reader:
        assert torch.equal(reader.read_frames(times), expected)


def train_sample(path, backend: str, seed: int) -> dict:
    """The stage-1 training sample (audio resampled to 16 kHz mono -> fbank; 8 frames at
    2 fps -> random resized crop -> flip) from ``path`` with the given random state."""
    pipeline = [TRANSFORMS.build(cfg) for cfg in [
        dict(type='LoadAudioVideo', backend=backend, clip_sampler=dict(num_frames=8, fps=2)),
        dict(type='AudioResample', sample_rate=16000),
        dict(type='KaldiFbank', num_mel_bins=128),
        dict(type='AudioRandomRoll'),
        dict(type='AudioPadCrop', target_length=1024),
        dict(type='VideoRandomResizedCrop', size=32, scale=(0.2, 1.0)),
        dict(type='VideoRandomFlip', prob=0.5),
        dict(type='PackAVInputs'),
    ]]
    torch.manual_seed(seed)
    np.random.seed(seed)
    results = dict(filename=str(path))
    for transform in pipeline:
        results = transform(results)
    return results['inputs']


@needs_torchcodec
@pytest.mark.parametrize('name', ['long', 'stereo_48k', 'mkv'])
def test_training_sample_equals_pyav(media, name, backend):
    """Same random state, same file: the same fbank (audio resampled to the pipeline's rate)
    and the same cropped frames as the PyAV backend, bit for bit."""
    for seed in (0, 1):
        expected = train_sample(media[name], 'pyav', seed)
        got = train_sample(media[name], backend, seed)
        assert got.keys() == expected.keys()
        for key in expected:
            assert torch.equal(got[key], expected[key]), key


@needs_torchcodec
def test_reader_options(media, backend):
    load = LoadAudioVideo(backend=backend, reader_options=dict(device='cpu'))
    assert load(dict(filename=str(media['mp4'])))['video'].device.type == 'cpu'
    with pytest.raises(ValueError, match=r"reader_options \['devise'\] are not options of "
                       "backend 'torchcodec'"):
        LoadAudioVideo(backend=backend, reader_options=dict(devise='cuda'))
    with pytest.raises(ValueError, match=r"\['num_threads'\]"):  # LoadAudioVideo's own
        LoadAudioVideo(backend=backend, reader_options=dict(num_threads=2))
    with pytest.raises(ValueError, match=r"\['device'\] are not options of backend 'pyav'"):
        LoadAudioVideo(backend='pyav', reader_options=dict(device='cuda'))


@needs_torchcodec
@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error without CUDA')
def test_cuda_device_without_cuda(media, backend):
    with pytest.raises(RuntimeError, match=r"mp4\.mp4: backend 'torchcodec' with "
                       r"device='cuda', but torch sees no CUDA device"):
        open_media(media['mp4'], backend=backend, device='cuda')


def test_missing_torchcodec_fails_at_build_time(monkeypatch, media):
    """Without torchcodec, naming the backend fails when the pipeline is built, saying what
    to install (runs whether or not torchcodec is installed here)."""
    monkeypatch.setitem(sys.modules, 'torchcodec', None)  # import torchcodec -> ImportError
    with pytest.raises(ImportError, match="backend 'torchcodec' needs the torchcodec package"):
        LoadAudioVideo(backend='torchcodec')
    with pytest.raises(ImportError, match='pip install torchcodec'):
        open_media(media['mp4'], backend='torchcodec')
    LoadAudioVideo(backend='pyav')  # the other backends do not need it


def test_missing_ffmpeg_libraries_is_an_import_error(monkeypatch):
    """torchcodec raises RuntimeError on import when it finds no FFmpeg libraries it can
    load; the backend turns that into an ImportError naming FFmpeg."""
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name.startswith('torchcodec'):
            raise RuntimeError('Could not load libtorchcodec')
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, 'torchcodec', raising=False)
    monkeypatch.delitem(sys.modules, 'torchcodec.decoders', raising=False)
    monkeypatch.setattr(builtins, '__import__', failing_import)
    with pytest.raises(ImportError, match='cannot load the FFmpeg shared libraries') as info:
        import_torchcodec()
    assert 'libtorchcodec' in str(info.value.__cause__)


@needs_torchcodec
def test_cpu_fallback_report(media, backend):
    """What benchmarks/gpu_decode.py relies on to tell NVDEC decoding from a CPU fallback."""

    class Status:
        def __init__(self, known: bool, fallback: bool) -> None:
            self.status_known, self.fallback = known, fallback

        def __bool__(self) -> bool:
            return self.fallback

        def __str__(self) -> str:
            return 'Fallback status: Falling back due to: NVCUVID not available'

    with open_media(media['mp4'], backend=backend) as reader:
        reader.read_frames([0.0])
        assert reader.cpu_fallback is None  # CPU decoding: nothing to fall back from
        decoder = reader._decoder
        reader.device = 'cuda'
        reports = []
        for known, fallback in [(False, False), (True, False), (True, True)]:
            reader._decoder = type('Decoder', (), {'cpu_fallback': Status(known, fallback)})()
            reports.append(reader.cpu_fallback)
        reader._decoder = decoder
    assert reports[:2] == [None, '']  # unknown before a decode; '' = decoded on the GPU
    assert 'NVCUVID not available' in reports[2]
