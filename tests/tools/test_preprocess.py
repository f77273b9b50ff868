"""tools/data/preprocess.py: longer side 360 px (App. B.1), 16 kHz audio, folders kept."""
import csv

import pytest

from mavil.datasets.readers import open_media, probe
from tests.datasets.media import truncate_at_packet, write_clip

# source (H, W), sample rate, channels -> expected output (W, H)
SOURCES = {
    'wide/a.mkv': ((480, 854), 48000, 2, (360, 202)),  # 16:9 -> longer side 360
    'tall/b.webm': ((640, 480), 48000, 2, (270, 360)),  # portrait 3:4
    'c.mp4': ((48, 64), 44100, 1, (64, 48)),  # smaller than 360: not enlarged
}


@pytest.mark.parametrize('size, side, expected', [
    ((1920, 1080), 'longer', (360, 202)), ((1080, 1920), 'longer', (202, 360)),
    ((1920, 1080), 'shorter', (640, 360)), ((640, 360), 'longer', (360, 202)),
    ((321, 241), 'longer', (320, 240)),  # never enlarged; 4:2:0 needs even sides
])
def test_output_size(preprocess, size, side, expected):
    assert preprocess.output_size(*size, size=360, side=side) == expected


def test_reencodes_keeps_structure_reports_and_resumes(preprocess, tmp_path, capsys):
    src, dst = tmp_path / 'src', tmp_path / 'dst'
    for name, (hw, rate, channels, _) in SOURCES.items():
        write_clip(src / name, seconds=1.6, size=hw, sample_rate=rate, channels=channels,
                   fps=12.5)
    whole = write_clip(tmp_path / 'whole.mp4', seconds=4.0, faststart=True)
    (src / 'cut').mkdir()
    truncate_at_packet(whole, src / 'cut/d.mp4', 0.5)  # a download cut off half way
    (src / 'notes.mp4').write_text('not a video')

    assert preprocess.main([str(src), str(dst), '--workers', '2']) == 1  # failures -> 1
    for name, (_, _, channels, (width, height)) in SOURCES.items():
        out = dst / name.rsplit('.', 1)[0]
        out = out.with_name(out.name + '.mp4')
        info = probe(str(out))
        assert (info.sample_rate, info.num_channels) == (16000, channels), name
        assert info.duration == pytest.approx(1.6, abs=0.1)
        with open_media(str(out), backend='pyav') as reader:
            assert reader.num_frames == 20 and reader.fps == pytest.approx(12.5)
            assert tuple(reader.read_frames([0.0]).shape[1:3]) == (height, width), name
    assert not (dst / 'cut/d.mp4').exists() and not list(dst.rglob('*.part.mp4'))
    with open(dst / 'preprocess_errors.csv', newline='') as f:
        errors = {r['filename']: r['reason'] for r in csv.DictReader(f)}
    assert set(errors) == {'cut/d.mp4', 'notes.mp4'}
    assert 'truncated' in errors['cut/d.mp4'] and 'cannot open' in errors['notes.mp4']
    stdout = capsys.readouterr().out
    assert '3 re-encoded, 0 already done, 2 failed' in stdout
    assert 'cut/d.mp4: ' in stdout and 'notes.mp4: ' in stdout

    # a second run skips what is done; --allow-truncated keeps what decodes
    preprocess.main([str(src), str(dst), '--workers', '1', '--allow-truncated'])
    assert '1 re-encoded, 3 already done, 1 failed' in capsys.readouterr().out
    assert probe(str(dst / 'cut/d.mp4')).duration == pytest.approx(2.0, abs=0.3)


@pytest.mark.parametrize('layout, message', [
    ('symlink', 'DST_DIR is SRC_DIR'),  # DST a symlink to SRC: --overwrite replaced sources
    ('inside', 'DST_DIR lies inside SRC_DIR'),  # outputs re-encoded as sources: out/out/
    ('around', 'SRC_DIR lies inside DST_DIR'),
])
def test_overlapping_folders_are_refused_before_any_write(preprocess, tmp_path, layout, message):
    src = tmp_path / 'videos'
    clip = write_clip(src / 'a.mp4', seconds=1.0, size=(48, 64))
    original = clip.read_bytes()
    dst = {'symlink': tmp_path / 'link', 'inside': src / 'out', 'around': tmp_path}[layout]
    if layout == 'symlink':
        dst.symlink_to(src, target_is_directory=True)
    with pytest.raises(SystemExit, match=message):
        preprocess.main([str(src), str(dst), '--workers', '1', '--overwrite'])
    assert clip.read_bytes() == original and sorted(p.name for p in src.iterdir()) == ['a.mp4']
