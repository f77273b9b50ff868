"""write_av_clip: containers, codecs, and refusals."""
import pytest
import torch

from mavil.datasets import open_media, probe, write_av_clip
from .media import frame_ids, make_frames, make_tone


@pytest.mark.parametrize('suffix,codecs', [('.mp4', ('h264', 'aac')), ('.mkv', ('h264', 'aac')),
                                           ('.webm', ('vp9', 'opus')),
                                           ('.avi', ('mpeg4', 'pcm_s16le'))])
def test_containers(tmp_path, suffix, codecs):
    import av
    path = write_av_clip(tmp_path / f'c{suffix}', frames=make_frames(12, 32, 48), fps=6,
                         waveform=make_tone(2.0, 16000), sample_rate=16000)
    with av.open(str(path)) as container:
        names = (container.streams.video[0].codec_context.name,
                 container.streams.audio[0].codec_context.name)
    assert names == codecs
    with open_media(path, backend='pyav') as reader:
        assert reader.num_frames == 12 and reader.fps == pytest.approx(6.0)
        assert frame_ids(reader.read_frames([0, 1.0, 1.9])) == [0, 6, 11]


def test_tensors_fractional_fps_and_codec_override(tmp_path):
    frames = torch.from_numpy(make_frames(30, 16, 16))
    waveform = torch.from_numpy(make_tone(1.0, 24000, 2))
    path = write_av_clip(tmp_path / 'x.mp4', frames=frames, fps=29.97, waveform=waveform,
                         sample_rate=24000, video_codec='mpeg4', audio_codec='libopus')
    info = probe(str(path))
    assert (info.sample_rate, info.num_channels) == (48000, 2)  # Opus always decodes at 48 kHz
    with open_media(path, backend='pyav') as reader:
        assert reader.fps == pytest.approx(29.97, abs=0.01)


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match='nothing to write'):
        write_av_clip(tmp_path / 'a.mp4')
    with pytest.raises(ValueError, match='frames must be'):
        write_av_clip(tmp_path / 'a.mp4', frames=make_frames(2, 8, 8)[..., :2])
    with pytest.raises(ValueError, match='Opus cannot encode 44100 Hz'):
        write_av_clip(tmp_path / 'a.webm', waveform=make_tone(1, 44100), sample_rate=44100)
    with pytest.raises(ValueError, match='needs even frame sizes'):
        write_av_clip(tmp_path / 'a.avi', frames=make_frames(2, 9, 8))
