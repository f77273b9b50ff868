"""The built-in demo dataset: determinism, splits, and that the sound carries the picture."""
import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from mavil.datasets import AVDataset, open_media
from mavil.demo.generator import (BLINK_HZ, CLASS_NAMES, CLASSES, NUM_CLASSES, DemoDataConfig,
                                  draw_clip, ensure_dataset, generate, is_complete, is_test,
                                  loudness, render_audio, render_video)
from .conftest import SMALL


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_specs(root: Path) -> list[dict]:
    with open(root / 'clips.csv', newline='') as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------------ determinism
def test_draws_and_renders_depend_only_on_seed_and_index():
    cfg = DemoDataConfig(seed=5)
    assert draw_clip(7, cfg) == draw_clip(7, cfg)
    assert draw_clip(7, cfg) != draw_clip(7, DemoDataConfig(seed=6))
    spec = draw_clip(7, cfg)
    np.testing.assert_array_equal(render_video(spec, cfg), render_video(spec, cfg))
    np.testing.assert_array_equal(render_audio(spec, cfg), render_audio(spec, cfg))
    assert not np.array_equal(render_audio(spec, cfg),
                              render_audio(draw_clip(15, cfg), cfg))  # same class, other clip


def test_files_are_identical_for_any_worker_count(small_demo, tmp_path):
    serial = tmp_path / 'serial'
    generate(serial, SMALL, workers=1, progress=False)
    for name in ('annotations.csv', 'clips.csv'):
        assert sha256(serial / name) == sha256(small_demo / name)
    for row in read_specs(serial):
        assert sha256(serial / row['filename']) == sha256(small_demo / row['filename'])


def test_ensure_dataset_reuses_a_complete_dataset_and_redoes_a_different_one(tmp_path):
    cfg = DemoDataConfig(num_clips=16)
    ann = ensure_dataset(tmp_path, cfg, progress=False)
    clip = tmp_path / 'clips' / 'clip_0000.mp4'
    stamp = clip.stat().st_mtime_ns
    assert ensure_dataset(tmp_path, cfg, progress=False) == ann
    assert clip.stat().st_mtime_ns == stamp  # not rewritten
    other = DemoDataConfig(num_clips=16, seed=1)
    assert not is_complete(tmp_path, other)
    ensure_dataset(tmp_path, other, progress=False)
    assert is_complete(tmp_path, other) and not is_complete(tmp_path, cfg)
    (tmp_path / 'COMPLETE').unlink()  # an interrupted generation is redone
    assert not is_complete(tmp_path, other)


def test_too_few_clips_is_an_error(tmp_path):
    with pytest.raises(ValueError, match='at least 16'):
        generate(tmp_path, DemoDataConfig(num_clips=8), progress=False)


# ----------------------------------------------------------------------------- splits
def test_test_split_is_balanced_and_held_out():
    cfg = DemoDataConfig()  # the demo's own size
    specs = [draw_clip(i, cfg) for i in range(cfg.num_clips)]
    test = [s for s in specs if s.split == 'test']
    per_class = np.bincount([s.label for s in test], minlength=NUM_CLASSES)
    assert (per_class == per_class[0]).all() and per_class[0] > 0
    assert len(test) == round(cfg.test_fraction * cfg.num_clips)
    assert is_test(cfg.num_clips - 1, cfg) and not is_test(0, cfg)


def test_annotations_load_in_avdataset(small_demo):
    for split, count in (('train', 8), ('test', 8)):
        ds = AVDataset(ann_file=str(small_demo / 'annotations.csv'), data_prefix=str(small_demo),
                       split=split, classes=CLASS_NAMES)
        assert len(ds) == count
        assert sorted(r['labels'][0] for r in ds.data_list) == list(range(NUM_CLASSES))
        assert all(Path(r['filename']).is_file() for r in ds.data_list)


# ------------------------------------------------- the sound carries the picture (decoded)
def _object_shown_bright(frames: torch.Tensor, rgb: tuple) -> np.ndarray:
    """Per frame: does the object's own (undimmed) colour cover >= 40 pixels?"""
    target = torch.tensor(rgb, dtype=torch.float32)
    hits = ((frames.float() - target).norm(dim=-1) < 45).flatten(1).sum(1)  # [T]
    return (hits >= 40).numpy()


def _band_envelope(wave: np.ndarray, rate: int, freq: float, hop: float = 0.02) -> np.ndarray:
    """Amplitude of the +-4 % band around ``freq`` in 40 ms windows every ``hop`` s."""
    win, step = int(0.04 * rate), int(hop * rate)
    starts = range(0, len(wave) - win, step)
    spectrum_freqs = np.fft.rfftfreq(win, 1 / rate)
    band = (spectrum_freqs > freq * 0.93) & (spectrum_freqs < freq * 1.07)
    window = np.hanning(win)
    return np.array([np.abs(np.fft.rfft(wave[s:s + win] * window))[band].max() for s in starts])


def test_sound_starts_and_stops_with_the_object_and_has_its_pitch(small_demo):
    for row in read_specs(small_demo):
        cls = CLASSES[int(row['label'])]
        onset, offset = float(row['onset']), float(row['offset'])
        with open_media(str(small_demo / row['filename']), backend='pyav') as reader:
            frames = reader.read_frames(reader.frame_times)
            wave, rate = reader.read_audio()
            frame_times = reader.frame_times
        # picture: the object is on screen exactly in the frames inside [onset, offset), at full
        # brightness except in the dim half of each blink (pulsed classes)
        shown = _object_shown_bright(frames, tuple(int(c) for c in row['colour'].split()))
        expected = (frame_times >= onset) & (frame_times < offset)
        if cls.pulsed:
            expected &= ((frame_times - onset) * 2 * BLINK_HZ).astype(int) % 2 == 0
        assert (shown == expected).all(), (row['filename'], shown, expected)
        # sound: the class pitch is loud exactly while the object is visible
        env = _band_envelope(wave[0].numpy(), rate, float(row['pitch']))
        times = np.arange(len(env)) * 0.02 + 0.02  # window centres
        # the distractor tone may fall into the band (it is a distractor): leave its time out
        d_onset = float(row['distractor_onset'])
        clean = (times < d_onset - 0.03) | (times > d_onset + 0.43)
        on = env > 0.25 * np.quantile(env[clean], 0.95)
        inside = clean & (times > onset + 0.03) & (times < offset - 0.03)
        outside = clean & ((times < onset - 0.03) | (times > offset + 0.03))
        assert not on[outside].any(), row['filename']
        if cls.pulsed:  # 6 Hz pulses: about half of the windows inside are on
            assert 0.3 < on[inside].mean() < 0.8, row['filename']
        else:
            assert on[inside].all(), row['filename']


def test_pitch_identifies_the_class_and_loudness_the_size():
    cfg = DemoDataConfig(seed=11)
    specs = [draw_clip(i, cfg) for i in range(32)]
    for spec in specs:  # pitch within +-4 % of its class, classes ~0.5 octave apart
        assert abs(spec.pitch / CLASSES[spec.label].pitch - 1) <= 0.04
    pitches = sorted(c.pitch for c in CLASSES)
    assert min(b / a for a, b in zip(pitches, pitches[1:])) > 1.3
    # bigger objects sound louder: measured peak of the class tone vs object radius
    amps, expected = [], []
    for spec in specs:
        if CLASSES[spec.label].pulsed:
            continue
        wave = render_audio(spec, cfg)[0]
        env = _band_envelope(wave, cfg.sample_rate, spec.pitch)
        amps.append(np.median(env[env > 0.25 * env.max()]))
        expected.append(loudness(spec.radius / cfg.size))
    assert np.corrcoef(amps, expected)[0, 1] > 0.95


def test_distractors_make_the_task_non_trivial():
    """A silent grey shape is always on screen and an unrelated tone plays at a random time."""
    cfg = DemoDataConfig(seed=2)
    spec = draw_clip(0, cfg)
    frames = render_video(spec, cfg)
    t = np.arange(frames.shape[0]) / cfg.fps
    before = frames[t < spec.onset]
    grey = (np.ptp(before.astype(int), axis=-1) < 8) & (before.min(-1) > 85)
    assert (grey.reshape(len(before), -1).sum(1) > 20).all()  # distractor visible, object not
    wave = render_audio(spec, cfg)[0]
    env = _band_envelope(wave, cfg.sample_rate, spec.distractor_freq)
    times = np.arange(len(env)) * 0.02 + 0.02
    during = (times > spec.distractor_onset + 0.05) & (times < spec.distractor_onset + 0.35)
    assert env[during].min() > 5 * np.median(env)
