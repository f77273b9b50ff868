"""The clip cache: the same samples as the video path, resume, unusable clips, damage."""
import dataclasses
import json
import os
import tarfile

import numpy as np
import pytest
import torch

from mavil.datasets import AVDataset, LoadAudioVideo
from mavil.datasets.cache import (CacheSettings, LoadCachedClip, build_cache, decode_record,
                                  settings_from_pipelines)
from mavil.datasets.cache.reader import CacheError
from mavil.datasets.readers import CorruptMediaError, MediaNotFoundError, MissingStreamError
from mavil.structures import SKIPPED_KEY
from .media import backend_params, frame_ids, write_clip

CLIP = dict(num_frames=8, fps=2.0)
TEST_CLIP = dict(CLIP, test_mode=True, num_clips=3)


def steps(load: dict, *, train: bool) -> list:
    audio = [dict(type='AudioResample'), dict(type='KaldiFbank', num_mel_bins=32),
             dict(type='AudioPadCrop', target_length=300), dict(type='AudioNormalize')]
    video = ([dict(type='VideoRandomResizedCrop', size=32), dict(type='VideoRandomFlip')]
             if train else [dict(type='VideoResize', short_side=32),
                            dict(type='VideoCenterCrop', size=32)])
    return [load] + audio + video + [dict(type='PackAVInputs')]


def video_load(train: bool) -> dict:
    return dict(type='LoadAudioVideo', backend='pyav', clip_sampler=CLIP if train else TEST_CLIP)


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    """A folder of clips (on the 2-fps grid, off it, stereo 44.1 kHz, portrait, broken) and
    its annotation file."""
    root = tmp_path_factory.mktemp('clips')
    write_clip(root / 'grid.mp4', seconds=6.0, fps=2.0, faststart=True)
    write_clip(root / 'sub' / 'fast.mkv', seconds=10.0, fps=10.0, sample_rate=44100,
               channels=2)
    write_clip(root / 'tall.webm', seconds=5.0, fps=8.0, size=(80, 48), sample_rate=48000)
    write_clip(root / 'no_audio.mp4', audio=False)
    (root / 'garbage.mp4').write_bytes(b'not a video' * 50)
    names = ['grid.mp4', 'sub/fast.mkv', 'tall.webm', 'no_audio.mp4', 'garbage.mp4',
             'missing.mp4']
    (root / 'ann.csv').write_text('filename,labels\n' + ''.join(f'{n},x\n' for n in names))
    return root, names


def build(root, names, out, settings: CacheSettings, **kwargs):
    files = [(n, str(root / n)) for n in names]
    return build_cache(files, str(out), settings, data_prefix=str(root), progress=False,
                       **kwargs)


def pipelines_settings(**overrides) -> CacheSettings:
    return settings_from_pipelines([steps(video_load(True), train=True),
                                    steps(video_load(False), train=False)], **overrides)


@pytest.fixture(scope='module')
def exact_cache(clips, tmp_path_factory):
    """Raw frames at the source size and float32 audio: nothing lossy."""
    root, names = clips
    out = tmp_path_factory.mktemp('exact')
    settings = dataclasses.replace(pipelines_settings(audio='float32', frame_format='raw'),
                                   short_side=None)
    report = build(root, names, out, settings, clips_per_shard=2)
    return out, report


@pytest.fixture(scope='module')
def jpeg_cache(clips, tmp_path_factory):
    """The default: JPEG (quality by pixel error) at the largest crop's short side (32)."""
    root, names = clips
    out = tmp_path_factory.mktemp('jpeg')
    build(root, names, out, pipelines_settings(audio='pcm16'), clips_per_shard=4, workers=2)
    return out


def dataset(root, pipeline) -> AVDataset:
    return AVDataset(ann_file=str(root / 'ann.csv'), data_prefix=str(root), pipeline=pipeline)


def samples(ds, index: int, seeds=range(4)) -> list:
    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        out.append(ds[index])
    return out


def test_settings_follow_the_pipelines():
    settings = pipelines_settings()
    assert settings.fps == 2.0 and settings.test_samplers == ((8, 2.0, 3),)
    assert settings.short_side == 32 and settings.sample_rate == 16000
    # only spectrogram steps after the fbank: the fbank itself is cached
    assert settings.audio_format == 'fbank16'
    assert settings.fbank['num_mel_bins'] == 32
    mixing = steps(video_load(True), train=True)
    mixing.insert(1, dict(type='WaveformMixup'))
    assert settings_from_pipelines([mixing]).audio_format == 'pcm16'
    other_fps = steps(dict(video_load(True), clip_sampler=dict(CLIP, fps=4.0)), train=True)
    with pytest.raises(ValueError, match='disagree'):
        settings_from_pipelines([steps(video_load(True), train=True), other_fps])


@pytest.mark.parametrize('train', [True, False])
def test_exact_cache_gives_the_video_paths_samples(clips, exact_cache, train):
    root, _ = clips
    out, _ = exact_cache
    from_video = dataset(root, steps(video_load(train), train=train))
    from_cache = dataset(root, steps(dict(type='LoadCachedClip', cache=str(out),
                                          clip_sampler=CLIP if train else TEST_CLIP),
                                     train=train))
    # training: every frame of grid.mp4 is on the 2-fps grid; test: the sampler's own frames
    indices = [0] if train else [0, 1, 2]
    for index in indices:
        for a, b in zip(samples(from_video, index), samples(from_cache, index)):
            assert torch.equal(a['inputs']['video'], b['inputs']['video'])
            assert torch.equal(a['inputs']['audio'], b['inputs']['audio'])
            assert a['data_samples'].metainfo.keys() == b['data_samples'].metainfo.keys()
            for key in ('duration', 'original_shape', 'crop_box', 'flip', 'num_clips'):
                assert a['data_samples'].metainfo.get(key) == b['data_samples'].metainfo.get(key)


def test_training_frames_off_the_grid_are_the_grid_frames(clips, exact_cache):
    """fast.mkv has 10 fps: a random start between grid points takes the grid's frames."""
    root, _ = clips
    out, _ = exact_cache
    video = LoadAudioVideo(backend='pyav', clip_sampler=CLIP)
    cached = LoadCachedClip(cache=str(out), clip_sampler=CLIP)
    for seed in range(6):
        torch.manual_seed(seed)
        want = frame_ids(video(dict(filename=str(root / 'sub/fast.mkv')))['video'])
        torch.manual_seed(seed)
        got = frame_ids(cached(dict(filename=str(root / 'sub/fast.mkv')))['video'])
        # start rounded down to the 2-fps grid (every 5th frame at 10 fps), then 0.5 s steps
        assert got == [w - w % 5 for w in want]


def test_jpeg_cache_is_within_its_measured_error(clips, jpeg_cache):
    root, _ = clips
    manifest = json.loads((jpeg_cache / 'cache.json').read_text())
    assert manifest['jpeg_pixel_error'] <= manifest['settings']['max_pixel_error']
    video = LoadAudioVideo(backend='pyav', clip_sampler=TEST_CLIP)
    cached = LoadCachedClip(cache=str(jpeg_cache), clip_sampler=TEST_CLIP)
    from mavil.datasets.transforms import VideoResize
    for name in ('sub/fast.mkv', 'tall.webm'):
        want = video(dict(filename=str(root / name)))
        got = cached(dict(filename=str(root / name)))
        resized = VideoResize(short_side=32)(dict(video=want['video']))['video']
        assert got['video'].shape == resized.shape  # [N, 3, T, h, w]
        error = (got['video'].float() - resized.float()).abs().mean().item()
        assert error <= 2 * manifest['jpeg_pixel_error'] + 0.5
        # 16-bit PCM: within half a quantisation step of the resampled waveform
        from mavil.datasets.transforms import AudioResample
        wave = AudioResample()(dict(want))['waveform']
        assert (got['waveform'] - wave).abs().max().item() <= 0.5 / 32767 + 1e-7


def test_fbank_cache_matches_the_fbank_path(clips, tmp_path):
    root, names = clips
    build(root, names[:2], tmp_path, pipelines_settings(frame_format='raw'))
    from_video = dataset(root, steps(video_load(False), train=False))
    from_cache = dataset(root, steps(dict(type='LoadCachedClip', cache=str(tmp_path),
                                          clip_sampler=TEST_CLIP), train=False))
    a, b = from_video[1]['inputs']['audio'], from_cache[1]['inputs']['audio']
    assert a.shape == b.shape
    # float16: ~3 significant digits of log-energies of magnitude < 20, normalised by 2 * std
    assert (a - b).abs().max().item() < 2e-2 / (2 * 4.569)
    bad = steps(dict(type='LoadCachedClip', cache=str(tmp_path), clip_sampler=TEST_CLIP),
                train=False)
    bad[2] = dict(type='KaldiFbank', num_mel_bins=64)
    with pytest.raises(ValueError, match='other settings'):
        dataset(root, bad)[0]


def test_unusable_clips_are_listed_and_skipped(clips, exact_cache):
    root, names = clips
    out, report = exact_cache
    assert report.clips == 3 and report.unusable == 3
    listed = dict(line.split('\t', 1) for line in (out / 'unusable.tsv').read_text().splitlines())
    assert set(listed) == {'no_audio.mp4', 'garbage.mp4', 'missing.mp4'}
    assert listed['no_audio.mp4'].startswith('MissingStreamError')
    assert listed['missing.mp4'].startswith('MediaNotFoundError')
    ds = dataset(root, steps(dict(type='LoadCachedClip', cache=str(out), clip_sampler=CLIP),
                             train=True))
    video_ds = dataset(root, steps(video_load(True), train=True))
    for index in (3, 4, 5):
        marker = ds[index][SKIPPED_KEY]
        assert marker['filename'] == str(root / names[index])
        assert 'when the cache was built' in marker['reason']
        # the video path's reason (up to its first comma: the cache says what it needed)
        assert video_ds[index][SKIPPED_KEY]['reason'].split(',')[0] in marker['reason']
    load = LoadCachedClip(cache=str(out), clip_sampler=CLIP)
    with pytest.raises(MissingStreamError):
        load(dict(filename=str(root / 'no_audio.mp4')))
    with pytest.raises(MediaNotFoundError, match='not in the clip cache'):
        load(dict(filename=str(root / 'never_listed.mp4')))


def test_build_resumes_and_keeps_finished_shards(clips, tmp_path):
    root, names = clips
    settings = pipelines_settings(frame_format='raw', audio='pcm16')
    first = build(root, names[:3], tmp_path, settings, clips_per_shard=1)
    assert (first.shards_written, first.shards_kept) == (3, 0)
    kept = {n: os.stat(tmp_path / f'shard-00000{n}.tar').st_mtime_ns for n in (0, 2)}
    (tmp_path / 'shard-000001.tar').unlink()  # an interrupted build: this one is missing
    (tmp_path / 'shard-000002.tar.tmp').write_bytes(b'half written')
    with pytest.raises(CacheError, match=r'shard-000001\.tar is missing'):
        LoadCachedClip(cache=str(tmp_path), clip_sampler=CLIP)(
            dict(filename=str(root / names[1])))
    second = build(root, names[:3], tmp_path, settings, clips_per_shard=1)
    assert (second.shards_written, second.shards_kept) == (1, 2)
    assert {n: os.stat(tmp_path / f'shard-00000{n}.tar').st_mtime_ns for n in (0, 2)} == kept
    load = LoadCachedClip(cache=str(tmp_path), clip_sampler=TEST_CLIP)
    assert load(dict(filename=str(root / 'sub/fast.mkv')))['video'].shape[:3] == (3, 3, 8)
    with pytest.raises(ValueError, match='another settings'):
        build(root, names[:3], tmp_path, dataclasses.replace(settings, fps=1.0),
              clips_per_shard=1)
    with pytest.raises(ValueError, match='another keys_digest'):
        build(root, names[:2] + names[3:4], tmp_path, settings, clips_per_shard=1)


def _damage(path, offset: int) -> None:
    with open(path, 'r+b') as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_damaged_shard_names_the_shard(clips, tmp_path):
    root, names = clips
    build(root, names[:2], tmp_path, pipelines_settings(frame_format='raw'),
          clips_per_shard=1)
    shard = tmp_path / 'shard-000000.tar'
    index = json.loads((tmp_path / 'shard-000000.json').read_text())
    _, offset, size = index['clips'][0]
    _damage(shard, offset + size - 10)  # inside the last blob (the audio)
    ds = dataset(root, steps(dict(type='LoadCachedClip', cache=str(tmp_path),
                                  clip_sampler=CLIP), train=True))
    marker = ds[0][SKIPPED_KEY]  # skipped and counted like a corrupt video
    assert str(shard) in marker['reason'] and 'CRC-32' in marker['reason']
    assert SKIPPED_KEY not in ds[1]
    load = LoadCachedClip(cache=str(tmp_path), clip_sampler=CLIP)
    _damage(shard, offset + 40)  # inside the header (JSON)
    with pytest.raises(CorruptMediaError, match='shard-000000.tar.*header fails its CRC-32'):
        load(dict(filename=str(root / names[0])))
    _damage(shard, offset)  # the record's magic
    with pytest.raises(CorruptMediaError, match='shard-000000.tar.*bad magic'):
        load(dict(filename=str(root / names[0])))
    with open(shard, 'r+b') as f:  # truncated: every clip in it is gone, stop loudly
        f.truncate(offset + 100)
    fresh = LoadCachedClip(cache=str(tmp_path), clip_sampler=CLIP)
    with pytest.raises(CacheError, match=r'shard-000000\.tar is .* bytes, the index says'):
        fresh(dict(filename=str(root / names[0])))


def test_bad_config_fails_at_build_time(exact_cache, tmp_path):
    out, _ = exact_cache
    with pytest.raises(ValueError, match='does not hold'):
        LoadCachedClip(cache=str(out), clip_sampler=dict(CLIP, fps=4.0))
    with pytest.raises(ValueError, match='does not hold'):
        LoadCachedClip(cache=str(out), clip_sampler=dict(TEST_CLIP, num_clips=5))
    with pytest.raises(CacheError, match='not a clip cache'):
        LoadCachedClip(cache=str(tmp_path))
    manifest = json.loads((out / 'cache.json').read_text())
    (tmp_path / 'cache.json').write_text(json.dumps(dict(manifest, format=0)))
    (tmp_path / 'index.npz').write_bytes((out / 'index.npz').read_bytes())
    with pytest.raises(CacheError, match='records of format 0.*rebuild'):
        LoadCachedClip(cache=str(tmp_path))


def test_shards_are_plain_tars_of_records(exact_cache):
    """What a WebDataset / tar-streaming reader sees: one member per clip, a whole record."""
    out, _ = exact_cache
    with tarfile.open(out / 'shard-000000.tar') as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ['000000000.mavilclip', '000000001.mavilclip']
        header, blobs = decode_record(tar.extractfile(members[1]).read())
    assert header['key'] == 'sub/fast.mkv'
    frames = np.frombuffer(blobs['frame_index'], dtype=np.int32)
    assert len(frames) == 20 + len(set(frames.tolist()) - set(range(0, 100, 5)))


def test_data_loader_workers_open_their_own_shards(clips, exact_cache):
    root, _ = clips
    out, _ = exact_cache
    ds = dataset(root, steps(dict(type='LoadCachedClip', cache=str(out), clip_sampler=CLIP),
                             train=True))
    ds[0]  # the parent opens shard 0 first
    from mavil.datasets import av_collate
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2,
                                         collate_fn=av_collate)
    batches = list(loader)
    assert sum(len(b['data_samples']) for b in batches) == 3
    assert sum(len(b[SKIPPED_KEY]) for b in batches) == 3


@pytest.mark.parametrize('backend', backend_params(['decord', 'torchcodec']))
def test_builder_takes_any_registered_reader(clips, tmp_path, backend):
    """The reader backend is a MEDIA_READERS name: another backend builds the same frames and
    audio as PyAV (every backend decodes the same frames; audio is PyAV's in all)."""
    root, names = clips
    settings = dataclasses.replace(pipelines_settings(audio='float32', frame_format='raw'),
                                   short_side=None)
    build(root, names[:2], tmp_path / 'pyav', settings)
    build(root, names[:2], tmp_path / backend, dataclasses.replace(settings, backend=backend))
    for name in names[:2]:
        torch.manual_seed(0)
        want = LoadCachedClip(cache=str(tmp_path / 'pyav'), clip_sampler=TEST_CLIP)(
            dict(filename=str(root / name)))
        got = LoadCachedClip(cache=str(tmp_path / backend), clip_sampler=TEST_CLIP)(
            dict(filename=str(root / name)))
        assert torch.equal(got['video'], want['video'])
        assert torch.equal(got['waveform'], want['waveform'])
