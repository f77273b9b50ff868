"""Media files written once per session (about a second in all)."""
from pathlib import Path

import pytest

from .media import write_clip

# name -> write_clip keyword arguments; suffix picks the container and codecs.
MEDIA = {
    'mp4': dict(suffix='.mp4', seconds=3.0, faststart=True),
    'webm': dict(suffix='.webm', seconds=3.0, sample_rate=48000, channels=2),
    'mkv': dict(suffix='.mkv', seconds=3.0, sample_rate=44100, channels=2),
    'long': dict(suffix='.mp4', seconds=10.0, faststart=True),
    'long_mkv': dict(suffix='.mkv', seconds=10.0),
    'long_webm': dict(suffix='.webm', seconds=10.0),
    'odd': dict(suffix='.mp4', size=(241, 321), sample_rate=8000),
    'portrait': dict(suffix='.webm', size=(320, 180), sample_rate=48000, channels=2),
    'stereo_48k': dict(suffix='.mp4', sample_rate=48000, channels=2),
    'mono_8k': dict(suffix='.mkv', sample_rate=8000),
    'no_audio': dict(suffix='.mp4', audio=False),
    'audio_only': dict(suffix='.mp4', video=False),
    'short': dict(suffix='.mp4', seconds=0.6),
    'loop': dict(suffix='.mp4', seconds=1.5),
    'silent': dict(suffix='.mp4', silent=True),
}


@pytest.fixture(scope='session')
def media(tmp_path_factory) -> dict:
    """name -> path of a real media file (see ``MEDIA``)."""
    root = tmp_path_factory.mktemp('media')
    paths = {}
    for name, kwargs in MEDIA.items():
        kwargs = dict(kwargs)
        paths[name] = write_clip(root / f'{name}{kwargs.pop("suffix")}', **kwargs)
    return paths


@pytest.fixture(scope='session')
def media_root(media) -> Path:
    return next(iter(media.values())).parent
