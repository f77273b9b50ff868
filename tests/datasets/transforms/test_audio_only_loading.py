"""An audio-only pipeline does not open the video stream: a file whose video track is broken
(here: declared but without a single frame) still gives its audio."""
import av
import numpy as np
import pytest

from mavil.datasets.readers import MediaError
from mavil.datasets.transforms import LoadAudioVideo
from tests.datasets.media import backend_params


def write_broken_video_track(path) -> str:
    """Matroska file: 2 s of AAC audio and an H.264 video stream with no frames."""
    with av.open(str(path), 'w') as container:
        video = container.add_stream('libx264', rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, 'yuv420p'
        audio = container.add_stream('aac', rate=16000)
        audio.layout = 'mono'
        tone = np.sin(np.arange(32000) / 16000 * 2 * np.pi * 440).astype(np.float32)[None]
        for start in range(0, tone.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start:start + 1024]),
                                               format='fltp', layout='mono')
            frame.sample_rate = 16000
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode(None):
            container.mux(packet)
    return str(path)


@pytest.mark.parametrize('backend', backend_params(['pyav', 'decord', 'torchcodec']))
def test_audio_only_pipeline_ignores_a_broken_video_track(tmp_path, backend):
    path = write_broken_video_track(tmp_path / 'broken_video.mkv')
    with pytest.raises(MediaError, match='broken_video.mkv: video'):
        LoadAudioVideo(backend=backend)(dict(filename=path))
    results = LoadAudioVideo(backend=backend, modalities=('audio', ))(dict(filename=path))
    assert results['sample_rate'] == 16000 and 'video' not in results
    assert results['waveform'].shape[1] == pytest.approx(32000, abs=2048)
