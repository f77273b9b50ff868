"""LoadAudioVideo: what it puts in results, clip placement, and every refusal."""
import pytest
import torch

from mavil.datasets.readers import (ClipTooShortError, CorruptMediaError, MediaNotFoundError,
                                    MissingStreamError)
from mavil.datasets.transforms import ClipSampler, LoadAudioVideo
from tests.datasets.media import backend_params, frame_ids

BACKENDS = backend_params(['decord', 'pyav', 'torchcodec'])


def load(path, **kwargs) -> dict:
    return LoadAudioVideo(**kwargs)(dict(filename=str(path)))


@pytest.mark.parametrize('backend', BACKENDS)
def test_outputs(media, backend):
    results = load(media['long'], backend=backend)
    assert results['video'].dtype == torch.uint8
    assert results['video'].shape == (3, 8, 48, 64)  # [C, T, H, W]
    assert results['waveform'].dtype == torch.float32 and results['waveform'].shape[0] == 1
    assert results['sample_rate'] == 16000
    assert results['num_clips'] == 1 and results['original_shape'] == (48, 64)
    assert results['frame_timestamps'].shape == (1, 8)
    assert results['video_fps'] == pytest.approx(10.0)
    assert results['duration'] == pytest.approx(10.0, abs=0.1)
    # 8 frames at 2 fps: consecutive frames are 5 source frames (0.5 s) apart
    ids = frame_ids(results['video'])
    assert [b - a for a, b in zip(ids, ids[1:])] == [5] * 7


@pytest.mark.parametrize('backend', BACKENDS)
def test_random_start_stays_inside_video(media, backend):
    torch.manual_seed(0)
    transform = LoadAudioVideo(backend=backend)
    firsts = set()
    for _ in range(6):
        ids = frame_ids(transform(dict(filename=str(media['long'])))['video'])
        assert ids == sorted(ids) and ids[-1] <= 99  # no wrap needed in a 10 s video
        firsts.add(ids[0])
    assert len(firsts) > 1  # random


def test_test_mode_centre_clip(media):
    results = load(media['long'], clip_sampler=dict(num_frames=8, fps=2, test_mode=True))
    assert frame_ids(results['video']) == list(range(30, 70, 5))  # 3 s .. 6.5 s


def test_multi_clip(media):
    results = load(media['long'], backend='pyav',
                   clip_sampler=dict(num_frames=4, fps=2, num_clips=3, test_mode=True))
    video = results['video']
    assert video.shape == (3, 3, 4, 48, 64)  # [N, C, T, H, W]
    assert results['frame_timestamps'].shape == (3, 4) and results['num_clips'] == 3
    # slack 8 s, clips start at 8 * (i + 0.5) / 3 s
    assert [frame_ids(clip)[0] for clip in video] == [13, 40, 66]


@pytest.mark.parametrize('backend', BACKENDS)
def test_short_video_loops(media, backend):
    """A 1.5 s video (15 frames) gives a 4 s clip by cycling back to its start."""
    results = load(media['loop'], backend=backend,
                   clip_sampler=dict(num_frames=8, fps=2, test_mode=True))
    assert frame_ids(results['video']) == [0, 5, 10, 0, 5, 10, 0, 5]
    torch.manual_seed(1)
    for _ in range(3):
        ids = frame_ids(load(media['loop'], backend=backend)['video'])
        assert all(0 <= i < 15 for i in ids) and len(ids) == 8


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name,shape', [('odd', (241, 321)), ('portrait', (320, 180))])
def test_odd_and_portrait_sizes(media, backend, name, shape):
    results = load(media[name], backend=backend)
    assert results['video'].shape == (3, 8, *shape)
    assert results['original_shape'] == shape


@pytest.mark.parametrize('name,rate,channels', [('mono_8k', 8000, 1), ('stereo_48k', 48000, 2)])
def test_any_audio_rate_and_layout(media, name, rate, channels):
    results = load(media[name])
    assert results['sample_rate'] == rate and results['waveform'].shape[0] == channels


def test_modalities_subset(media):
    audio = load(media['audio_only'], modalities=('audio',))
    assert 'video' not in audio and audio['waveform'].shape[0] == 1
    video = load(media['no_audio'], modalities=('video',))
    assert 'waveform' not in video and video['video'].shape == (3, 8, 48, 64)


@pytest.mark.parametrize('backend', BACKENDS)
def test_video_without_audio_track(media, backend):
    with pytest.raises(MissingStreamError, match='no_audio.mp4: has no audio stream'):
        load(media['no_audio'], backend=backend)


@pytest.mark.parametrize('backend', BACKENDS)
def test_audio_only_file(media, backend):
    with pytest.raises(MissingStreamError, match='audio_only.mp4: has no video stream'):
        load(media['audio_only'], backend=backend)


@pytest.mark.parametrize('backend', BACKENDS)
def test_clip_shorter_than_one_second(media, backend):
    with pytest.raises(ClipTooShortError, match=r'short.mp4: file lasts 0.60 s, shorter than '
                       r'min_duration=1.0 s'):
        load(media['short'], backend=backend)
    ok = load(media['short'], backend=backend, min_duration=0.5)
    assert ok['video'].shape[1] == 8


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(MediaNotFoundError, match='gone.mp4'):
        load(tmp_path / 'gone.mp4')
    (tmp_path / 'empty.webm').touch()
    with pytest.raises(CorruptMediaError, match='empty.webm: file is empty'):
        load(tmp_path / 'empty.webm')


def test_requires_filename():
    with pytest.raises(KeyError, match=r"LoadAudioVideo needs results\['filename'\]"):
        LoadAudioVideo()({})


def test_bad_config():
    with pytest.raises(KeyError, match="unknown media backend 'opencv'"):
        LoadAudioVideo(backend='opencv')
    with pytest.raises(ValueError, match='modalities'):
        LoadAudioVideo(modalities=('audio', 'text'))
    assert LoadAudioVideo(clip_sampler=ClipSampler(num_frames=4)).clip_sampler.num_frames == 4
