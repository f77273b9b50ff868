"""The built-in demo dataset: determinism, splits, synchrony of sound and picture, and that the
class is NOT readable from colour or pitch statistics."""
import colorsys
import csv
import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mavil.datasets import AVDataset, open_media
from mavil.demo.generator import MARKER, ensure_dataset, generate, is_complete
from mavil.demo.melody import (CLASS_NAMES, CLASSES, CONTOURS, MAX_RADIUS, MIN_RADIUS, NOTE_GAP,
                               NUM_CLASSES, PITCH_OCTAVES, DemoDataConfig, draw_clip, is_test,
                               loudness)
from mavil.demo.render import object_track, render_audio, render_video
from .conftest import SMALL, summary_statistics_accuracy


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_specs(root: Path) -> list[dict]:
    with open(root / 'clips.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in ('notes', 'harmonics', 'colour'):
            row[key] = json.loads(row[key])
    return rows


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


def test_a_folder_the_generator_did_not_write_is_never_overwritten(tmp_path):
    (tmp_path / 'clips').mkdir()
    mine = tmp_path / 'clips' / 'my_video.mp4'
    mine.write_bytes(b'not a demo clip')
    with pytest.raises(FileExistsError, match='holds no demo dataset'):
        ensure_dataset(tmp_path, DemoDataConfig(num_clips=16), progress=False)
    assert mine.read_bytes() == b'not a demo clip'


def test_a_users_folder_with_a_clips_csv_but_no_marker_is_refused(tmp_path):
    (tmp_path / 'clips').mkdir()
    mine = tmp_path / 'clips' / 'my_wedding.mp4'
    mine.write_bytes(b'the only copy')
    (tmp_path / 'clips.csv').write_text('filename\nclips/my_wedding.mp4\n')
    with pytest.raises(FileExistsError, match='holds no demo dataset'):
        ensure_dataset(tmp_path, DemoDataConfig(num_clips=16), progress=False)
    assert mine.read_bytes() == b'the only copy'
    (tmp_path / MARKER).write_text('written by mavil.demo.generator\n')  # lists no files
    with pytest.raises(FileExistsError, match='holds no demo dataset'):
        ensure_dataset(tmp_path, DemoDataConfig(num_clips=16), progress=False)
    assert mine.read_bytes() == b'the only copy'


def test_regeneration_deletes_only_the_files_the_marker_lists(tmp_path):
    root = tmp_path / 'data'
    ensure_dataset(root, DemoDataConfig(num_clips=24), progress=False)
    listed = json.loads((root / MARKER).read_text())['files']
    assert sorted(listed) == sorted(
        [*(f'clips/clip_{i:04d}.mp4' for i in range(24)), 'annotations.csv', 'clips.csv',
         'COMPLETE'])
    mine = root / 'clips' / 'my_wedding.mp4'  # the user's files beside the generated ones
    mine.write_bytes(b'the only copy')
    (root / 'notes.txt').write_text('mine')
    outside = tmp_path / 'outside.txt'
    outside.write_text('mine')
    marker = json.loads((root / MARKER).read_text())  # a marker naming other files
    marker['files'] += ['clips/my_wedding.mp4', '../outside.txt', 'notes.txt']
    (root / MARKER).write_text(json.dumps(marker))
    ensure_dataset(root, DemoDataConfig(num_clips=16, seed=1), progress=False)
    assert mine.read_bytes() == b'the only copy' and outside.read_text() == 'mine'
    assert (root / 'notes.txt').read_text() == 'mine'
    assert not (root / 'clips' / 'clip_0016.mp4').exists()  # listed, no longer generated
    assert sorted(p.name for p in (root / 'clips').iterdir()) == sorted(
        [f'clip_{i:04d}.mp4' for i in range(16)] + ['my_wedding.mp4'])
    assert is_complete(root, DemoDataConfig(num_clips=16, seed=1))


def test_a_file_the_marker_does_not_list_is_not_overwritten(tmp_path):
    ensure_dataset(tmp_path, DemoDataConfig(num_clips=16), progress=False)
    theirs = tmp_path / 'clips' / 'clip_0020.mp4'  # a name the next generation would write
    theirs.write_bytes(b'not the generator\'s')
    with pytest.raises(FileExistsError, match='does not list'):
        ensure_dataset(tmp_path, DemoDataConfig(num_clips=24), progress=False)
    assert theirs.read_bytes() == b'not the generator\'s'
    assert is_complete(tmp_path, DemoDataConfig(num_clips=16))  # nothing deleted


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


# ------------------------------------------------------------------------- the melody
def test_melody_follows_the_class_pattern_with_random_pitch_and_tempo():
    cfg = DemoDataConfig(seed=11)
    specs = [draw_clip(i, cfg) for i in range(32)]
    for spec in specs:
        cls = CLASSES[spec.label]
        assert tuple(n[2] for n in spec.notes) == CONTOURS[cls.contour]
        lengths = np.array([stop - start for start, stop, _ in spec.notes])
        np.testing.assert_allclose(lengths / lengths[0], np.array(cls.beats) / cls.beats[0],
                                   rtol=1e-3)  # the rhythm, at the clip's tempo
        gaps = [b[0] - a[1] for a, b in zip(spec.notes, spec.notes[1:])]
        np.testing.assert_allclose(gaps, NOTE_GAP, atol=2e-4)
        assert 0 < spec.onset and spec.offset < cfg.duration
    # the same class is played at very different pitches and tempos
    for label in range(NUM_CLASSES):
        same = [s for s in specs if s.label == label]
        assert max(s.base_pitch for s in same) / min(s.base_pitch for s in same) > 1.1


def _band(wave: np.ndarray, rate: int, freq: float, start: float, stop: float) -> float:
    """Spectral magnitude of the +-3 % band around ``freq`` in [start, stop) (Hann window)."""
    seg = wave[int(start * rate):int(stop * rate)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / rate)
    return spectrum[(freqs > freq * 0.97) & (freqs < freq * 1.03)].max(initial=0.0)


def _object_centre(frame: torch.Tensor, rgb: list) -> tuple:
    """Centre (x, y) of the pixels within 40 of the object's colour, and their count."""
    near = (frame.float() - torch.tensor(rgb, dtype=torch.float32)).norm(dim=-1) < 40
    ys, xs = torch.nonzero(near, as_tuple=True)
    if len(xs) == 0:
        return None, None, 0
    return float(xs.float().mean()), float(ys.float().mean()), len(xs)


def test_decoded_clips_sound_and_picture_are_in_sync(small_demo):
    cfg = SMALL
    for row in read_specs(small_demo):
        spec = draw_clip(int(row['index']), cfg)
        assert [list(n) for n in spec.notes] == row['notes']
        with open_media(str(small_demo / row['filename']), backend='pyav') as reader:
            frames = reader.read_frames(reader.frame_times)
            wave, rate = reader.read_audio()
            times = reader.frame_times
        wave = wave[0].numpy()
        # picture: the object is visible exactly inside [onset, offset), at the note's height
        x, y, visible = object_track(spec, times, cfg)
        for i, t in enumerate(times):
            cx, cy, count = _object_centre(frames[i], row['colour'])
            if visible[i]:
                assert count > 30, (row['filename'], t)
                assert abs(cy - y[i]) < 3 and abs(cx - x[i]) < 3, (row['filename'], t)
            else:
                assert count < 10, (row['filename'], t)
        # sound: each note has its pitch (the clip's strongest partial, harmonic h), silent
        # before the first note
        top = max(spec.pitch(n[2]) for n in spec.notes)
        audible = [a if top * (k + 1) < 6000 else 0 for k, a in enumerate(row['harmonics'])]
        h = int(np.argmax(audible)) + 1  # strongest partial below the codec's cut-off
        for start, stop, level in spec.notes:
            freq = spec.pitch(level) * h
            inside = _band(wave, rate, freq, start + 0.02, stop - 0.02)
            # silence before the first note, unless the distractor tone sounds there, near freq
            distractor_there = (spec.distractor_onset < spec.onset
                                and abs(spec.distractor_freq / freq - 1) < 0.1)
            before = _band(wave, rate, freq, 0.0, spec.onset - 0.02) \
                if spec.onset > 0.15 and not distractor_there else 0.0
            assert inside > 8 * max(before, 1e-3), (row['filename'], level)


def test_height_is_the_pitch_hue_the_base_pitch_and_size_sets_loudness():
    cfg = DemoDataConfig(seed=4)
    specs = [draw_clip(i, cfg) for i in range(32)]
    for spec in specs:
        t = np.array([(a + b) / 2 for a, b, _ in spec.notes])
        _, y, visible = object_track(spec, t, cfg)
        levels = np.array([n[2] for n in spec.notes])
        assert visible.all()
        pitches = np.array([spec.pitch(level) for level in levels])
        np.testing.assert_allclose(np.log2(pitches / spec.base_pitch) * 12, levels * spec.step)
        # the same pitch is at the same height in every clip (of the same object size): the
        # centre rises linearly in octaves above 220 Hz over the frame's vertical travel
        room = cfg.size - 2 * spec.radius - 2
        expected = cfg.size - spec.radius - 1 - room * np.log2(pitches / 220) / PITCH_OCTAVES
        np.testing.assert_allclose(y, expected, atol=1e-6)
        assert (y >= spec.radius - 1e-6).all() and (y <= cfg.size - spec.radius + 1e-6).all()
    # hue rises with the base pitch (red for the lowest, violet for the highest)
    hues = [colorsys.rgb_to_hsv(*(np.array(s.colour) / 255))[0] for s in specs]
    octaves = [math.log2(s.base_pitch / 220) for s in specs]
    np.testing.assert_allclose(hues, np.array(octaves) * 0.4, atol=0.02)
    # bigger objects are louder: only the melody scales with the radius (noise, distractor and
    # phases stay), linearly: equal radius steps add equal waves
    spec = draw_clip(3, cfg)
    waves = [render_audio(replace(spec, radius=r * cfg.size), cfg)[0].astype(np.float64)
             for r in (MIN_RADIUS, (MIN_RADIUS + MAX_RADIUS) / 2, MAX_RADIUS)]
    step1, step2 = waves[1] - waves[0], waves[2] - waves[1]
    assert step1.std() > 0.01
    np.testing.assert_allclose(step2, step1, atol=1e-4)
    assert loudness(MAX_RADIUS) > loudness(MIN_RADIUS)


def test_class_is_not_readable_from_colour_or_spectrum_statistics():
    """Nearest class mean on [mean RGB, mean log spectrum] of rendered clips: about chance."""
    cfg = DemoDataConfig(seed=8)
    specs = [draw_clip(i, cfg) for i in range(64)]
    accuracy = summary_statistics_accuracy(specs, cfg, render_video, render_audio, NUM_CLASSES)
    assert accuracy < 0.3  # chance 0.125
