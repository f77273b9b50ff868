"""Clip-cache record decoding: JPEG frames as torchvision decodes them, audio blobs exactly,
damaged blobs named, and the record's small blobs served from its first read."""
import os

import numpy as np
import pytest
import torch
from torchvision.io import decode_jpeg

from mavil.datasets.cache import LoadCachedClip, build_cache, settings_from_pipelines
from mavil.datasets.cache.format import (RecordError, decode_audio, decode_frames_into,
                                         encode_audio, encode_frame)
from mavil.datasets.cache.reader import ClipCache, frame_positions
from .media import write_clip

CLIP = dict(num_frames=8, fps=2.0)


def picture(height: int, width: int, seed: int) -> torch.Tensor:
    """uint8 ``[h, w, 3]``: colour gradients plus noise (edges and flat parts for JPEG)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, height)[:, None].expand(height, width)
    x = torch.linspace(0, 1, width)[None, :].expand(height, width)
    base = torch.stack([y * 255, x * 255, (x + y) * 127], dim=-1)  # [h, w, 3]
    noise = torch.randint(-40, 41, (height, width, 3), generator=g)
    return (base + noise).clamp(0, 255).to(torch.uint8)


@pytest.mark.parametrize('height,width,quality', [(224, 398, 95), (33, 57, 75), (9, 17, 100)])
def test_jpeg_frames_decode_as_torchvision_decodes(height, width, quality):
    frames = [picture(height, width, seed) for seed in range(3)]
    blobs = [encode_frame(f, 'jpeg', quality) for f in frames]
    out = torch.empty(3, height, width, 3, dtype=torch.uint8)
    decode_frames_into([memoryview(bytearray(b)) for b in blobs[:2]] + [blobs[2]], 'jpeg', out)
    for got, blob in zip(out, blobs):
        want = decode_jpeg(torch.frombuffer(bytearray(blob), dtype=torch.uint8))  # [3, h, w]
        assert torch.equal(got, want.permute(1, 2, 0))
    strided = torch.empty(3, height, 3, width, dtype=torch.uint8).permute(0, 1, 3, 2)
    decode_frames_into(blobs, 'jpeg', strided)  # a view that is not C-ordered
    assert torch.equal(strided, out)


def test_raw_frames_are_copied_exactly():
    frames = torch.stack([picture(5, 7, seed) for seed in range(2)])
    out = torch.empty_like(frames)
    decode_frames_into([encode_frame(f, 'raw') for f in frames], 'raw', out)
    assert torch.equal(out, frames)
    with pytest.raises(RecordError, match=r'raw frame of 104 bytes, expected \(5, 7, 3\)'):
        decode_frames_into([bytes(104)], 'raw', out[:1])


def test_bad_jpeg_frames_are_record_errors_naming_the_frame():
    good = encode_frame(picture(16, 24, 0), 'jpeg', 90)
    out = torch.empty(2, 16, 24, 3, dtype=torch.uint8)
    with pytest.raises(RecordError, match='JPEG frame 1 fails to decode'):
        decode_frames_into([good, good[:len(good) // 2]], 'jpeg', out)
    with pytest.raises(RecordError, match='JPEG frame 0 fails to decode'):
        decode_frames_into([b'not a jpeg' * 20, good], 'jpeg', out)
    smaller = encode_frame(picture(8, 24, 0), 'jpeg', 90)
    with pytest.raises(RecordError, match=r'JPEG frame 1 is \(8, 24, 3\), expected'):
        decode_frames_into([good, smaller], 'jpeg', out)


@pytest.mark.parametrize('audio_format', ['pcm16', 'float32', 'fbank16'])
def test_audio_blobs_decode_exactly(audio_format):
    g = torch.Generator().manual_seed(0)
    shape = (1, 1000) if audio_format != 'fbank16' else (50, 20)
    audio = torch.rand(shape, generator=g) * 2 - 1
    if audio_format == 'fbank16':
        audio = audio * 10
    data = encode_audio(audio, audio_format)
    numpy_dtype = dict(pcm16=np.int16, float32=np.float32, fbank16=np.float16)[audio_format]
    want = torch.from_numpy(np.frombuffer(data, dtype=numpy_dtype).astype(np.float32))
    want = (want / np.float32(32767.0) if audio_format == 'pcm16' else want).view(shape)
    for blob in (data, memoryview(bytearray(data))):
        got = decode_audio(blob, audio_format, shape)
        assert got.dtype == torch.float32 and torch.equal(got, want)
    with pytest.raises(RecordError, match='expected shape'):
        decode_audio(data[:-2], audio_format, shape)


def test_small_blobs_come_from_the_first_read(tmp_path, monkeypatch):
    """The record's header read (8 KiB) holds the frame times and index: mapping timestamps
    to frames reads nothing more, and the sample is unchanged."""
    write_clip(tmp_path / 'a.mp4', seconds=6.0, fps=10.0)
    pipelines = [[dict(type='LoadAudioVideo', clip_sampler=CLIP),
                  dict(type='VideoRandomResizedCrop', size=32)]]
    build_cache([('a.mp4', str(tmp_path / 'a.mp4'))], str(tmp_path / 'cache'),
                settings_from_pipelines(pipelines), data_prefix=str(tmp_path), progress=False)
    torch.manual_seed(0)
    want = LoadCachedClip(cache=str(tmp_path / 'cache'), clip_sampler=CLIP)(
        dict(filename=str(tmp_path / 'a.mp4')))
    record = ClipCache(str(tmp_path / 'cache')).open(str(tmp_path / 'a.mp4'))
    reads = []
    preadv = os.preadv
    monkeypatch.setattr(os, 'preadv', lambda *a: reads.append(a) or preadv(*a))
    positions = frame_positions(record, np.array([[0.0, 0.5, 5.9]]))
    assert reads == [] and positions.tolist() == [0, 1, 11]
    torch.manual_seed(0)
    got = LoadCachedClip(cache=str(tmp_path / 'cache'), clip_sampler=CLIP)(
        dict(filename=str(tmp_path / 'a.mp4')))
    assert len(reads) == 3  # header, frames, audio
    assert torch.equal(got['video'], want['video'])
    assert torch.equal(got['waveform'], want['waveform'])
