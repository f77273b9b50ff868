"""Fixtures for the demo tests: one small generated demo dataset shared by the module."""
from pathlib import Path

import numpy as np
import pytest

from mavil.demo.generator import DemoDataConfig, generate

SMALL = DemoDataConfig(num_clips=16, seed=3)


@pytest.fixture(scope='session')
def small_demo(tmp_path_factory) -> Path:
    """16 clips (2 per class), written with 2 worker processes."""
    root = tmp_path_factory.mktemp('demo_data')
    generate(root, SMALL, workers=2, progress=False)
    return root


def summary_statistics_accuracy(specs: list, cfg, render_video, render_audio,
                                num_classes: int) -> float:
    """Leave-one-out nearest class mean on [mean RGB, mean log spectrum] of rendered clips:
    what a classifier reading only colour and spectrum statistics gets."""
    feats = []
    for spec in specs:
        rgb = render_video(spec, cfg).reshape(-1, 3).mean(0) / 255
        wave = render_audio(spec, cfg)[0]
        spectrum = np.abs(np.fft.rfft(wave)) ** 2
        bands = np.log(np.array([b.mean() for b in np.array_split(spectrum[:32000], 32)]) + 1e-9)
        feats.append(np.concatenate([rgb * 10, bands - bands.mean()]))
    feats, labels = np.array(feats), np.array([s.label for s in specs])
    correct = 0
    for i in range(len(specs)):
        keep = np.arange(len(specs)) != i
        means = np.stack([feats[keep & (labels == c)].mean(0) for c in range(num_classes)])
        correct += int(np.argmin(((means - feats[i]) ** 2).sum(1)) == labels[i])
    return correct / len(specs)
