"""The second demo data kind ('category'): determinism, splits, that each modality expresses
the category (its own way), and that mean colour / mean spectrum do not."""
from pathlib import Path

import numpy as np
import pytest

from mavil.datasets import AVDataset
from mavil.demo.categories import (CLASS_NAMES, NUM_CLASSES, PICTURE_OF, PICTURE_PATTERNS,
                                   RHYTHMS, SOUND_PATTERNS, CategoryDataConfig, draw_clip,
                                   object_track, render_audio, render_video)
from mavil.demo.generator import (DemoDataConfig, data_config, ensure_dataset, generate,
                                  is_complete)
from mavil.demo.render import _shape_mask
from mavil.demo.run import parse_args
from .conftest import summary_statistics_accuracy

SMALL = CategoryDataConfig(num_clips=16, seed=3)


def test_data_config_selects_the_kind_and_the_kinds_never_share_a_stamp(tmp_path):
    assert type(data_config('melody', seed=2)) is DemoDataConfig
    assert data_config('category', seed=2) == CategoryDataConfig(seed=2)
    with pytest.raises(ValueError, match='unknown demo data kind'):
        data_config('speech')
    assert sorted(set(SOUND_PATTERNS)) == sorted(SOUND_PATTERNS)  # 8 distinct patterns each
    assert sorted(PICTURE_OF) == list(range(NUM_CLASSES)) == list(range(len(PICTURE_PATTERNS)))
    ensure_dataset(tmp_path, SMALL, workers=1, progress=False)
    assert is_complete(tmp_path, SMALL)
    assert not is_complete(tmp_path, DemoDataConfig(num_clips=16, seed=3))  # same fields


def test_demo_cli_selects_the_kind_with_its_own_folders():
    melody, category = parse_args([]), parse_args(['--data-kind', 'category'])
    assert (melody.data_kind, melody.data_root, melody.work_dir) == (
        'melody', 'data/demo', 'work_dirs/demo')
    assert (category.data_kind, category.data_root, category.work_dir) == (
        'category', 'data/demo_category', 'work_dirs/demo_category')
    assert parse_args(['--data-kind', 'category', '--data-root', 'x']).data_root == 'x'


def test_generated_files_load_in_avdataset_with_balanced_splits(tmp_path):
    generate(tmp_path, SMALL, workers=2, progress=False)
    for split in ('train', 'test'):
        ds = AVDataset(ann_file=str(tmp_path / 'annotations.csv'), data_prefix=str(tmp_path),
                       split=split, classes=CLASS_NAMES)
        assert sorted(r['labels'][0] for r in ds.data_list) == list(range(NUM_CLASSES))
        assert all(Path(r['filename']).is_file() for r in ds.data_list)
    header = (tmp_path / 'clips.csv').read_text().splitlines()[0]
    assert 'events' in header and 'colours' in header


# ------------------------------------------------- each modality expresses the category
def _stft(wave: np.ndarray, rate: int, hop: int = 160, n: int = 512):
    frames = np.lib.stride_tricks.sliding_window_view(wave, n)[::hop] * np.hanning(n)
    return np.abs(np.fft.rfft(frames, axis=1)), np.fft.rfftfreq(n, 1 / rate), hop / rate


def read_sound_pattern(wave: np.ndarray, spec, rate: int) -> tuple:
    """(glide, tremolo, rhythm) read from the waveform inside the clip's events: the mean
    change of the strongest frequency, the share of the loudness envelope's variance at
    6-14 Hz, and the event count."""
    mag, freqs, dt = _stft(wave, rate)
    band = (freqs > 150) & (freqs < 7000)
    steps, mod_share = [], []
    for start, stop in spec.events:
        lo, hi = int((start + 0.04) / dt), int((stop - 0.04 - 512 / rate) / dt)
        peak = np.log2(freqs[band][mag[lo:hi, band].argmax(1)])
        steps.extend(np.diff(peak))
        seg = wave[int((start + 0.03) * rate):int((stop - 0.03) * rate)]
        rms = np.sqrt(np.convolve(seg ** 2, np.ones(80) / 80, 'valid'))[::80]  # 200 Hz
        spectrum = np.abs(np.fft.rfft(rms - rms.mean())) ** 2
        f = np.fft.rfftfreq(len(rms), 80 / rate)
        mod_share.append(spectrum[(f > 6) & (f < 14)].sum() / spectrum[1:].sum())
    steps = np.array(steps)
    steps = steps[np.abs(steps) < 0.15]  # a jump to another partial is not the glide
    glide = 'rising' if steps.mean() > 0 else 'falling'
    tremolo = 'tremolo' if np.median(mod_share) > 0.3 else 'steady'
    rhythm = {2: 'long', 4: 'short'}.get(len(spec.events))
    return glide, tremolo, rhythm


def read_picture_pattern(frame: np.ndarray, spec, cfg) -> tuple:
    """(shape, stripes) read from a frame: the object's pixels (near either stripe colour)
    against the four shapes at its centre (best overlap), and along which axis its colour
    alternates."""
    colours = np.array(spec.colours, dtype=np.float32)
    dist = np.linalg.norm(frame[..., None, :].astype(np.float32) - colours, axis=-1)  # [H,W,2]
    which = dist.argmin(-1)
    mask = dist.min(-1) < 30
    s = cfg.size
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    x, y = object_track(spec, np.zeros(1), cfg)
    ious = {}
    for shape in ('disc', 'square', 'triangle', 'cross'):
        ref = _shape_mask(shape, yy, xx, x[0], y[0], spec.radius)
        ious[shape] = (ref & mask).sum() / (ref | mask).sum()
    both = mask[1:, :] & mask[:-1, :]
    changes_down = (which[1:, :] != which[:-1, :])[both].mean()
    both = mask[:, 1:] & mask[:, :-1]
    changes_across = (which[:, 1:] != which[:, :-1])[both].mean()
    return max(ious, key=ious.get), 'horizontal' if changes_down > changes_across else 'vertical'


def test_sound_and_picture_each_express_the_category_their_own_way():
    cfg = CategoryDataConfig(seed=9)
    sound_ok = picture_ok = 0
    for i in range(32):
        spec = draw_clip(i, cfg)
        assert len(spec.events) == len(RHYTHMS[spec.sound_pattern[2]])
        if read_sound_pattern(render_audio(spec, cfg)[0].astype(np.float64), spec,
                              cfg.sample_rate) == spec.sound_pattern:
            sound_ok += 1
        if read_picture_pattern(render_video(spec, cfg)[0], spec, cfg) == spec.picture_pattern:
            picture_ok += 1
    assert sound_ok >= 30 and picture_ok >= 30, (sound_ok, picture_ok)


def test_nothing_but_the_category_is_shared():
    """No timing (the object is always visible; event times are independent of the picture),
    no pitch-height, no pitch-colour and no size-loudness link: across clips these correlate
    at most weakly."""
    cfg = CategoryDataConfig(seed=2)
    specs = [draw_clip(i, cfg) for i in range(256)]
    pitch = np.log([s.centre_pitch for s in specs])
    pairs = {
        'pitch-height': np.array([s.y0 for s in specs]),
        'pitch-colour': np.array([np.mean(s.colours) for s in specs]),
        'loudness-size': np.array([s.radius for s in specs]),
    }
    for name, value in pairs.items():
        other = np.array([s.loudness for s in specs]) if name == 'loudness-size' else pitch
        assert abs(np.corrcoef(other, value)[0, 1]) < 0.2, name
    onset = np.array([s.events[0][0] for s in specs])
    assert abs(np.corrcoef(onset, [s.x0 for s in specs])[0, 1]) < 0.2


def test_category_is_not_readable_from_colour_or_spectrum_statistics():
    """Nearest class mean on [mean RGB, mean log spectrum] of rendered clips: about chance."""
    cfg = CategoryDataConfig(seed=8)
    specs = [draw_clip(i, cfg) for i in range(64)]
    accuracy = summary_statistics_accuracy(specs, cfg, render_video, render_audio, NUM_CLASSES)
    assert accuracy < 0.3  # chance 0.125
