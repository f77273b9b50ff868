"""tools/data/build_annotations.py: good files are written, every bad one is listed with why."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mavil.datasets import AVDataset
from tests.datasets.media import truncate, truncate_at_packet, write_clip
from tests.helpers import TINY_PIPELINE
from .conftest import REPO

GOOD = {'dog/good.mp4': 'dog', 'cat/good_44k.mkv': 'cat', 'cat/good_48k.webm': 'cat'}
# file -> words its reason must contain
BAD = {
    'dog/empty.mp4': 'empty (0 bytes)',
    'dog/cut_index_at_end.mp4': 'cannot open',  # download cut off, index never written
    'dog/cut_index_at_front.mp4': 'truncated',  # opens, but the packets stop early
    'dog/no_audio.mp4': 'no audio stream',
    'cat/audio_only.mp4': 'no video stream',
    'cat/too_short.mp4': 'shorter than --min-duration',
    'cat/not_a_video.mp4': 'cannot open',
}


@pytest.fixture(scope='module')
def video_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('videos')
    write_clip(root / 'dog/good.mp4', faststart=True)
    write_clip(root / 'cat/good_44k.mkv', sample_rate=44100, channels=2)
    write_clip(root / 'cat/good_48k.webm', sample_rate=48000, channels=2)
    (root / 'dog/empty.mp4').write_bytes(b'')
    long_tail = write_clip(root / 'long_tail.mp4', seconds=4.0)  # index at the end
    truncate(long_tail, root / 'dog/cut_index_at_end.mp4', 0.6)
    long_front = write_clip(root / 'long_front.mp4', seconds=4.0, faststart=True)
    truncate_at_packet(long_front, root / 'dog/cut_index_at_front.mp4', 0.6)
    long_tail.unlink()
    long_front.unlink()
    write_clip(root / 'dog/no_audio.mp4', audio=False)
    write_clip(root / 'cat/audio_only.mp4', video=False)
    write_clip(root / 'cat/too_short.mp4', seconds=0.6)
    (root / 'cat/not_a_video.mp4').write_text('a text file with a video extension\n')
    (root / 'README.txt').write_text('not scanned: not a video extension\n')
    return root


def read_csv(path: Path) -> list:
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_writes_good_files_and_lists_every_bad_one(build_annotations, video_dir, tmp_path,
                                                   capsys):
    out = tmp_path / 'ann.csv'
    code = build_annotations.main([str(video_dir), '--out', str(out), '--label-from-dir',
                                   '--workers', '2'])
    assert code == 0
    rows = read_csv(out)
    assert {r['filename']: r['labels'] for r in rows} == GOOD
    assert [r['clip_id'] for r in rows] == ['good_44k', 'good_48k', 'good']  # sorted by file
    assert all(float(r['duration']) == pytest.approx(2.0, abs=0.1) for r in rows)

    errors = {r['filename']: r for r in read_csv(tmp_path / 'ann.csv.errors.csv')}
    assert set(errors) == set(BAD)
    stdout = capsys.readouterr().out
    for name, words in BAD.items():
        assert words in errors[name]['reason'], (name, errors[name])
        assert f'{name}: {errors[name]["reason"]}' in stdout  # every bad file, with its reason
    assert errors['dog/no_audio.mp4']['error'] == 'MissingStreamError'
    assert errors['cat/too_short.mp4']['error'] == 'ClipTooShortError'
    assert 'usable: 3' in stdout and 'unusable: 7' in stdout and '1 other files' in stdout
    assert 'ignored (not ending in .mp4 .mkv .webm .avi): README.txt' in stdout  # named

    # the annotation is what AVDataset reads: every clip loads
    dataset = AVDataset(ann_file=str(out), data_prefix=str(video_dir), pipeline=TINY_PIPELINE)
    assert dataset.metainfo['classes'] == ('cat', 'dog')
    for i in range(len(dataset)):
        sample = dataset[i]
        assert 'skipped' not in sample, sample
        assert sample['inputs']['audio'].shape == (1, 64, 32)
        assert sample['inputs']['video'].shape == (3, 2, 32, 32)
        assert sample['data_samples'].labels.tolist() == [
            dataset.metainfo['classes'].index(GOOD[rows[i]['filename']])]


def test_check_decode_uses_the_training_reader(build_annotations, tmp_path, capsys):
    # decord 0.6 cannot decode some intact files (here 48 px wide); the default checks pass them
    root = tmp_path / 'videos'
    write_clip(root / 'ok.mp4')
    write_clip(root / 'narrow.mp4', size=(48, 48))
    out = tmp_path / 'ann.csv'
    argv = [str(root), '--out', str(out), '--workers', '1']
    assert build_annotations.main(argv) == 0
    assert len(read_csv(out)) == 2
    assert build_annotations.main(argv + ['--check-decode', '--backend', 'pyav']) == 0
    assert len(read_csv(out)) == 2
    assert build_annotations.main(argv + ['--check-decode', '--backend', 'decord']) == 0
    assert [r['filename'] for r in read_csv(out)] == ['ok.mp4']
    errors = read_csv(tmp_path / 'ann.csv.errors.csv')
    assert errors[0]['filename'] == 'narrow.mp4' and 'decord' in errors[0]['reason']


def test_labels_from_csv(build_annotations, tmp_path, capsys):
    root = tmp_path / 'videos'
    for name in ('a.mp4', 'sub/b.mp4', 'c.mp4'):
        write_clip(root / name, seconds=1.5)
    labels = tmp_path / 'labels.csv'
    labels.write_text('filename,labels\na.mp4,dog;bark\nb,cat\n')  # path, or name sans suffix
    out = tmp_path / 'ann.csv'
    argv = [str(root), '--out', str(out), '--labels', str(labels), '--workers', '1']
    build_annotations.main(argv)
    assert {r['filename']: r['labels'] for r in read_csv(out)} == {'a.mp4': 'dog;bark',
                                                                     'sub/b.mp4': 'cat'}
    assert 'c.mp4: not listed in' in capsys.readouterr().out
    build_annotations.main(argv + ['--allow-unlabeled'])
    assert {r['filename']: r['labels'] for r in read_csv(out)}['c.mp4'] == ''


AUDIOSET_LABELS = '''# Segments csv created Sun Mar  5 10:54:31 2017
# num_ytids=3, num_segs=3, num_unique_labels=2, num_positive_labels=4
# YTID, start_seconds, end_seconds, positive_labels
--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/m/05zppz"
--ZhevVpy1s, 50.000, 60.000, "/m/05zppz"
--aE2O5G5WE, 0.000, 10.000, "/m/09x0r"
'''
CLASS_INDICES = 'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05zppz,"Male speech"\n'


def test_audioset_labels_and_format(build_annotations, tmp_path, capsys):
    root = tmp_path / 'videos'
    write_clip(root / '--PJHxphWEs.mp4', seconds=1.5)
    write_clip(root / '--ZhevVpy1s_50_60.mp4', seconds=1.5)  # YTID + suffix matches too
    write_clip(root / 'xxxxxxxxxxx.mp4', seconds=1.5)  # not in the labels file
    labels = tmp_path / 'balanced_train_segments.csv'
    labels.write_text(AUDIOSET_LABELS)
    (tmp_path / 'class_labels_indices.csv').write_text(CLASS_INDICES)
    out = tmp_path / 'ann.csv'
    build_annotations.main([str(root), '--out', str(out), '--labels', str(labels),
                            '--workers', '1'])
    rows = {r['filename']: r for r in read_csv(out)}
    assert rows['--PJHxphWEs.mp4']['labels'] == '/m/09x0r;/m/05zppz'
    assert rows['--ZhevVpy1s_50_60.mp4']['clip_id'] == '--ZhevVpy1s'
    assert 'xxxxxxxxxxx.mp4: not listed' in capsys.readouterr().out
    dataset = AVDataset(ann_file=str(out), data_prefix=str(root), pipeline=TINY_PIPELINE,
                        label_file=str(tmp_path / 'class_labels_indices.csv'))
    assert [r['labels'] for r in dataset.data_list] == [[0, 1], [1]]  # MIDs -> indices

    # AudioSet's own format: the clip's file must follow the template AVDataset will use
    out = tmp_path / 'segments.csv'
    build_annotations.main([str(root), '--out', str(out), '--labels', str(labels),
                            '--format', 'audioset', '--workers', '1'])
    assert 'names this clip' in capsys.readouterr().out  # --ZhevVpy1s_50_60.mp4
    dataset = AVDataset(ann_file=str(out), ann_format='audioset', data_prefix=str(root),
                        label_file=str(tmp_path / 'class_labels_indices.csv'),
                        pipeline=TINY_PIPELINE)
    assert [(r['clip_id'], r['start'], r['labels']) for r in dataset.data_list] == [
        ('--PJHxphWEs', 30.0, [0, 1])]
    assert 'skipped' not in dataset[0]


def test_vggsound_labels_and_split(build_annotations, tmp_path, capsys):
    root = tmp_path / 'videos'
    write_clip(root / '---g-f_I2yQ_000001.mp4', seconds=1.5)
    write_clip(root / '--0PQM4-hqg_000030.mp4', seconds=1.5)
    labels = tmp_path / 'vggsound.csv'
    labels.write_text('---g-f_I2yQ,1,people marching,test\n'
                      '--0PQM4-hqg,30,waterfall burbling,train\n')
    out = tmp_path / 'train.csv'
    build_annotations.main([str(root), '--out', str(out), '--labels', str(labels),
                            '--split', 'train', '--workers', '1'])
    rows = read_csv(out)
    assert [(r['filename'], r['clip_id'], r['labels']) for r in rows] == [
        ('--0PQM4-hqg_000030.mp4', '--0PQM4-hqg_000030', 'waterfall burbling')]
    stdout = capsys.readouterr().out
    assert '1 files belong to another split' in stdout and 'unusable: 0' in stdout


def test_command_line(tmp_path):
    root = tmp_path / 'videos'
    write_clip(root / 'a.mp4', seconds=1.5)
    (root / 'b.mp4').write_bytes(b'\x00' * 100)
    out = tmp_path / 'ann.csv'
    proc = subprocess.run([sys.executable, str(REPO / 'tools/data/build_annotations.py'),
                           str(root), '--out', str(out), '--workers', '1'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'usable: 1' in proc.stdout and 'b.mp4: cannot open' in proc.stdout
    assert '100%' in proc.stderr  # the progress bar
    assert [r['filename'] for r in read_csv(out)] == ['a.mp4']
    torch.testing.assert_close(float(read_csv(out)[0]['duration']), 1.5, atol=0.1, rtol=0)


def test_subset_is_a_seeded_uniform_draw(build_annotations, video_dir, tmp_path, capsys):
    """--subset N --seed S (Table 5a data-size subsets): N usable clips, reproducible."""
    draws = {}
    for seed in range(6):
        out = tmp_path / f'sub{seed}.csv'
        assert build_annotations.main([str(video_dir), '--out', str(out), '--label-from-dir',
                                       '--workers', '1', '--subset', '2', '--seed',
                                       str(seed)]) == 0
        rows = read_csv(out)
        assert len(rows) == 2 and {r['filename'] for r in rows} <= set(GOOD)
        assert [r['filename'] for r in rows] == sorted(r['filename'] for r in rows)
        draws[seed] = tuple(r['filename'] for r in rows)
        assert f'usable: 3; subset of 2 (seed {seed})' in capsys.readouterr().out
    again = tmp_path / 'again.csv'
    build_annotations.main([str(video_dir), '--out', str(again), '--label-from-dir',
                            '--workers', '1', '--subset', '2', '--seed', '3'])
    assert tuple(r['filename'] for r in read_csv(again)) == draws[3]
    assert len(set(draws.values())) > 1  # the seed matters
    with pytest.raises(SystemExit, match='--subset 4: 3 usable clips'):
        build_annotations.main([str(video_dir), '--out', str(again), '--label-from-dir',
                                '--workers', '1', '--subset', '4'])
