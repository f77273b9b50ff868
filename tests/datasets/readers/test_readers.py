"""Every media reader (backend_params skips one whose library cannot load here, saying why):
metadata, audio at any rate/layout, frame lookup, and bad files."""
import sys

import numpy as np
import pytest
import torch

from mavil.datasets.readers import (CorruptMediaError, MediaError, MediaNotFoundError,
                                    MissingStreamError, open_media, probe)
from mavil.registry import MEDIA_READERS, registered_names
from tests.datasets.media import (backend_params, frame_ids, make_tone, truncate,
                                  truncate_at_packet, write_clip)

BACKENDS = backend_params(registered_names(MEDIA_READERS))


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', ['mp4', 'webm', 'mkv'])
def test_metadata_and_frames(media, name, backend):
    with open_media(media[name], backend=backend) as reader:
        assert reader.has_audio and reader.has_video
        assert reader.num_frames == 30 and reader.fps == pytest.approx(10.0)
        assert reader.duration == pytest.approx(3.0, abs=0.1)
        assert reader.video_duration == pytest.approx(3.0)
        frames = reader.read_frames([0.0, 0.05, 0.1, 2.95, 1.0, 0.0])
    assert frames.dtype == torch.uint8 and frames.shape == (6, 48, 64, 3)
    # frame i is on screen during [i / 10, (i + 1) / 10); order and repeats are kept
    assert frame_ids(frames) == [0, 0, 1, 29, 10, 0]


def test_timestamps_clamp_to_video(media):
    with open_media(media['mp4']) as reader:
        assert reader.frame_indices([-1.0, 0.0, 2.99, 3.0, 99.0]).tolist() == [0, 0, 29, 29, 29]


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', ['mp4', 'webm', 'mkv', 'odd', 'portrait'])
def test_backends_decode_identical_frames(media, name, backend):
    times = np.linspace(0, 1.9, 7)
    with open_media(media[name], backend='pyav') as reader:
        expected = reader.read_frames(times)
    with open_media(media[name], backend=backend) as reader:
        assert torch.equal(reader.read_frames(times), expected)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name,rate,channels', [('mp4', 16000, 1), ('stereo_48k', 48000, 2),
                                                ('mono_8k', 8000, 1), ('webm', 48000, 2),
                                                ('mkv', 44100, 2)])
def test_audio_native_rate_and_channels(media, name, rate, channels, backend):
    with open_media(media[name], backend=backend) as reader:
        waveform, sample_rate = reader.read_audio()
    assert sample_rate == rate and waveform.dtype == torch.float32
    assert waveform.shape[0] == channels
    seconds = 3.0 if name in ('mp4', 'webm', 'mkv') else 2.0
    # encoders add up to ~1 codec frame of priming/padding
    assert waveform.shape[1] / rate == pytest.approx(seconds, abs=0.15)
    # every channel is intact (decord's own AudioReader corrupts the 2nd channel)
    assert torch.isfinite(waveform).all()
    ref = make_tone(seconds, rate, channels)
    rms = waveform[:, rate // 4:rate].pow(2).mean(dim=1).sqrt()
    ref_rms = torch.from_numpy(np.sqrt((ref ** 2).mean(axis=1)))
    assert torch.allclose(rms, ref_rms, rtol=0.1)


def test_probe(media):
    info = probe(str(media['stereo_48k']))
    assert info.has_audio and info.has_video
    assert (info.sample_rate, info.num_channels) == (48000, 2)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert not probe(str(media['no_audio'])).has_audio
    assert not probe(str(media['audio_only'])).has_video


@pytest.mark.parametrize('backend', BACKENDS)
def test_missing_streams(media, backend):
    with open_media(media['no_audio'], backend=backend) as reader:
        assert not reader.has_audio
        with pytest.raises(MissingStreamError, match='no audio stream'):
            reader.read_audio()
    with open_media(media['audio_only'], backend=backend) as reader:
        assert not reader.has_video and reader.num_frames == 0
        assert reader.read_audio()[0].shape[0] == 1
        with pytest.raises(MissingStreamError, match='no video stream'):
            reader.read_frames([0.0])


@pytest.mark.parametrize('backend', BACKENDS)
def test_missing_file(tmp_path, backend):
    path = tmp_path / 'nope.mp4'
    with pytest.raises(MediaNotFoundError, match='nope.mp4: file does not exist') as info:
        open_media(path, backend=backend)
    assert isinstance(info.value, FileNotFoundError)  # also catchable as the builtin


@pytest.mark.parametrize('backend', BACKENDS)
def test_zero_byte_file(tmp_path, backend):
    path = tmp_path / 'empty.mp4'
    path.touch()
    with pytest.raises(CorruptMediaError, match=r'empty.mp4: file is empty \(0 bytes\)'):
        open_media(path, backend=backend)


@pytest.mark.parametrize('backend', BACKENDS)
def test_garbage_file(tmp_path, backend):
    path = tmp_path / 'garbage.mkv'
    path.write_bytes(b'not a video at all ' * 500)
    with pytest.raises(CorruptMediaError, match='garbage.mkv: cannot open'):
        open_media(path, backend=backend)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', ['long', 'long_mkv', 'long_webm'])
@pytest.mark.parametrize('fraction', [0.15, 0.6, 0.9])
def test_truncated_file_raises(media, tmp_path, name, fraction, backend):
    """A cut-off file must fail loudly, never decode to a silently shorter clip.

    MP4 here has its index in front (faststart): the header still declares 10 s, decord
    either fails to open it or (PyAV, and decord's own AudioReader) decodes a shorter track.
    Matroska/WebM open with fewer frames. Either way the reader compares with the header.
    """
    path = truncate(media[name], tmp_path / f'cut{media[name].suffix}', fraction)
    with pytest.raises(CorruptMediaError, match='cut') as info:
        with open_media(path, backend=backend) as reader:
            reader.read_audio()
            reader.read_frames(np.arange(0, 10, 0.5))
    assert 'truncated' in str(info.value) or 'decode' in str(info.value) or \
        'cannot' in str(info.value)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('video', [True, False])
def test_cleanly_cut_file_decodes_short_and_raises(tmp_path, backend, video):
    """Cut between packets, the audio decodes without any error, just shorter (decord's
    AudioReader and PyAV alike): only the comparison with the header catches it."""
    src = write_clip(tmp_path / 'src.mp4', seconds=10.0, video=video, faststart=True)
    cut = truncate_at_packet(src, tmp_path / 'clean_cut.mp4', 0.5)
    with pytest.raises(CorruptMediaError, match=r'clean_cut.mp4: (audio|video) stream decodes '
                       r'to \d+\.\d+ s but the header declares 10\.00 s \(truncated'):
        with open_media(cut, backend=backend) as reader:
            reader.read_audio()


@pytest.mark.parametrize('backend', BACKENDS)
def test_moov_at_end_mp4_cut_does_not_open(tmp_path, backend):
    src = write_clip(tmp_path / 'tail_index.mp4', seconds=3.0)  # index written last
    cut = truncate(src, tmp_path / 'tail_cut.mp4', 0.9)
    with pytest.raises(CorruptMediaError, match='tail_cut.mp4: cannot open'):
        open_media(cut, backend=backend)


def test_duration_tolerance_is_configurable(media, tmp_path):
    cut = truncate(media['long_mkv'], tmp_path / 'cut.mkv', 0.9)  # ~9 of 10 s left
    with pytest.raises(CorruptMediaError):
        open_media(cut, backend='pyav')
    with open_media(cut, backend='pyav', duration_tolerance=5.0) as reader:
        assert 5.0 < reader.video_duration < 10.0


def test_unknown_backend(media):
    with pytest.raises(KeyError, match="unknown media backend 'ffmpeg'"):
        open_media(media['mp4'], backend='ffmpeg')


def test_errors_are_media_errors():
    assert issubclass(CorruptMediaError, MediaError) and issubclass(MediaError, RuntimeError)


def test_decord_frame_width_bug_is_loud_and_pyav_reads_it(tmp_path):
    """decord 0.6 cannot convert frames of some widths (16, 24, 48, 72 px ...): it must
    raise, naming the other backend, never return garbage; PyAV reads the same file."""
    path = write_clip(tmp_path / 'w48.mp4', size=(32, 48))
    with pytest.raises(CorruptMediaError, match="w48.mp4: video fails to decode with decord.*"
                       "backend='pyav'"):
        open_media(path, backend='decord').read_frames([0.0])
    assert open_media(path, backend='pyav').read_frames([0.0]).shape == (1, 32, 48, 3)


@pytest.mark.parametrize('backend', ['decord', 'torchcodec'])
def test_a_backend_that_cannot_import_fails_at_build_time_naming_it(monkeypatch, backend):
    """Missing package, or an installed one that cannot load its shared libraries: both an
    ImportError naming the backend and what to do, whether or not it is installed here."""
    import builtins

    from mavil.datasets.transforms import LoadAudioVideo
    monkeypatch.setitem(sys.modules, backend, None)  # import <backend> -> ImportError
    with pytest.raises(ImportError, match=rf"backend '{backend}' needs the {backend} package "
                       rf"\(pip install {backend}\); or use backend='pyav'"):
        LoadAudioVideo(backend=backend)
    monkeypatch.delitem(sys.modules, backend)
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name.startswith(backend):
            raise OSError(f'lib{backend}.so: cannot open shared object file')
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', failing_import)
    with pytest.raises(ImportError, match=rf"backend '{backend}': {backend} is installed but "
                       'cannot load') as info:
        LoadAudioVideo(backend=backend)
    assert 'cannot open shared object' in str(info.value.__cause__)
