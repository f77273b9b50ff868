"""What extract_features.py / predict.py write: unique per-file names, no stale failure list,
a nonzero exit when nothing could be used, output paths checked before any work."""
import os.path as osp

import numpy as np
import pytest
import torch

from mavil.apis import Features
from mavil.apis.features import per_file_names
from .conftest import TINY
from .test_predict import TINY_FT


def test_per_file_outputs_mirror_paths_and_never_collide(tmp_path):
    files = [str(tmp_path / p) for p in ('a/x.mp4', 'b/x.mp4', 'x_1.mp4', 'c/y.mp4', 'c/y.mkv')]
    rng = np.random.default_rng(0)
    feats = Features(files=files, embeddings={'audio': rng.normal(size=(5, 4)).astype('f4'),
                                              'video': rng.normal(size=(5, 4)).astype('f4')},
                     present={'audio': np.ones(5, bool),
                              'video': np.array([1, 1, 1, 0, 1], bool)})
    out = tmp_path / 'npy'
    written = feats.save_per_file(str(out))
    assert len(written) == len(set(written)) == 9
    assert sorted(osp.relpath(w, out) for w in written) == sorted([
        'a/x.audio.npy', 'a/x.video.npy', 'b/x.audio.npy', 'b/x.video.npy', 'x_1.audio.npy',
        'x_1.video.npy', 'c/y.mp4.audio.npy', 'c/y.mkv.audio.npy', 'c/y.mkv.video.npy'])
    for i, name in enumerate(['a/x', 'b/x', 'x_1', 'c/y.mp4', 'c/y.mkv']):
        np.testing.assert_array_equal(np.load(out / f'{name}.audio.npy'),
                                      feats.embeddings['audio'][i])
    assert per_file_names(['d/a.mp4.mkv', 'd/a.mp4', 'd/a.mkv']) == ['a.mp4.mkv', 'a.mp4',
                                                                      'a.mkv']


@pytest.fixture(scope='module')
def checkpoint(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pth'
    torch.save({'state_dict': tiny_model.state_dict()}, path)
    return path


def test_a_rerun_without_failures_removes_the_old_failure_list(checkpoint, clip_dir, tmp_path):
    from tools.extract_features import main
    out = tmp_path / 'feats.npz'
    main([str(TINY), str(checkpoint), str(clip_dir / 'av_0.mp4'), str(clip_dir / 'broken.mp4'),
          '--out', str(out), '--workers', '0'])
    assert 'broken.mp4' in (tmp_path / 'feats.failed.csv').read_text()
    main([str(TINY), str(checkpoint), str(clip_dir / 'av_0.mp4'), '--out', str(out),
          '--workers', '0'])
    assert not (tmp_path / 'feats.failed.csv').exists()


def test_every_file_failing_is_an_error(checkpoint, clip_dir, tmp_path, classifier_ckpt):
    from tools.extract_features import main as extract_main
    from tools.predict import main as predict_main
    out = tmp_path / 'feats.npz'
    bad = [str(clip_dir / 'broken.mp4'), str(clip_dir / 'empty.mp4')]
    with pytest.raises(SystemExit, match='none of the 2 files could be used'):
        extract_main([str(TINY), str(checkpoint), *bad, '--out', str(out), '--workers', '0'])
    assert not out.exists() and (tmp_path / 'feats.failed.csv').read_text().count('\n') == 3
    with pytest.raises(SystemExit, match='none of the 2 videos could be used'):
        predict_main([str(TINY_FT), str(classifier_ckpt), *bad])


@pytest.fixture(scope='module')
def classifier_ckpt(tmp_path_factory):
    from mavil.apis import init_model
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('ft') / 'ft.pth'
    torch.save({'state_dict': init_model(str(TINY_FT)).state_dict()}, path)
    return path


@pytest.mark.parametrize('tool, option', [('extract_features', '--out'),
                                          ('extract_features', '--per-file'),
                                          ('predict', '--out')])
def test_an_unwritable_output_fails_before_any_work(tmp_path, clip_dir, tool, option):
    import importlib
    main = importlib.import_module(f'tools.{tool}').main
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    target = str(blocker / 'sub' / ('feats.npz' if option == '--out' else 'npy'))
    missing = str(tmp_path / 'no_such_config.py')  # loading the model would fail on this
    with pytest.raises(SystemExit, match=rf'cannot write {option} {target}'):
        main([missing, str(tmp_path / 'none.pth'), str(clip_dir / 'av_0.mp4'), option, target])


def test_long_listings_end_with_the_count_left_out(checkpoint, clip_dir, tmp_path, capsys):
    """Skipped folder entries (first 5) and unusable files (first 20) are listed with
    '... (N more)' for the rest, so a long list never looks complete."""
    from tools.extract_features import main
    folder = tmp_path / 'clips'
    folder.mkdir()
    (folder / 'av_0.mp4').write_bytes((clip_dir / 'av_0.mp4').read_bytes())
    for i in range(8):
        (folder / f'notes_{i}.txt').write_text('not media')
    for i in range(22):
        (folder / f'bad_{i:02d}.mp4').write_bytes(b'')
    main([str(TINY), str(checkpoint), str(folder), '--out', str(tmp_path / 'f.npz'),
          '--workers', '0'])
    out = capsys.readouterr().out
    skipped = next(line for line in out.splitlines() if line.startswith('skipped 8 file(s)'))
    assert skipped.count('notes_') == 5 and skipped.endswith('... (3 more)')
    failed = out[out.index('22 files unusable'):].splitlines()[1:]
    assert len(failed) == 21 and failed[-1] == '  ... (2 more)'
    assert all('bad_' in line and 'empty' in line for line in failed[:20])
