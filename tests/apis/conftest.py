"""Fixtures for the inference API tests: a folder of small real clips and a tiny model."""
from pathlib import Path

import numpy as np
import pytest
import torch

from mavil.datasets.media_writer import write_av_clip

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'tests/fixtures/configs/tiny_infer.py'


def write_clip(path: Path, seed: int, *, audio: bool = True, video: bool = True,
               seconds: float = 1.5) -> Path:
    """A 32x40 clip with a coloured square moving at a seed-dependent speed and a tone whose
    pitch depends on the seed (so clips embed differently)."""
    rng = np.random.default_rng(seed)
    fps, sr = 8.0, 16000
    frames = None
    if video:
        n = int(seconds * fps)
        frames = np.full((n, 32, 40, 3), 20, np.uint8)
        color = rng.integers(60, 255, 3)
        for t in range(n):
            x = int((t * (1 + seed % 4) * 3) % 30)
            frames[t, 8:20, x:x + 10] = color
    waveform = None
    if audio:
        t = np.arange(int(seconds * sr)) / sr
        waveform = (0.3 * np.sin(2 * np.pi * (200 + 150 * seed) * t))[None].astype(np.float32)
    return write_av_clip(path, frames=frames, fps=fps, waveform=waveform, sample_rate=sr)


@pytest.fixture(scope='session')
def clip_dir(tmp_path_factory) -> Path:
    """av_0..av_3 (audio + video), audio_only, video_only, broken (garbage), empty."""
    root = tmp_path_factory.mktemp('clips')
    for i in range(4):
        write_clip(root / f'av_{i}.mp4', i)
    write_clip(root / 'audio_only.mp4', 5, video=False)
    write_clip(root / 'video_only.mp4', 6, audio=False)
    (root / 'broken.mp4').write_bytes(b'not a video at all' * 50)
    (root / 'empty.mp4').write_bytes(b'')
    return root


@pytest.fixture(scope='session')
def tiny_model():
    from mavil.apis import init_model
    torch.manual_seed(0)
    return init_model(str(TINY))
