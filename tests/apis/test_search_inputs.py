"""tools/search.py and its inputs: bad arguments and files give messages naming them, folder
scans take audio files, and the result page's links reach files of any name."""
import os.path as osp
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch

from mavil.apis import Features, resolve_sources
from mavil.apis.search import search, write_html
from .conftest import TINY, write_clip


def tiny_features(files, audio_dim=4, video_dim=4) -> Features:
    rng = np.random.default_rng(0)
    n = len(files)
    return Features(files=[str(f) for f in files],
                    embeddings={'audio': rng.normal(size=(n, audio_dim)).astype('f4'),
                                'video': rng.normal(size=(n, video_dim)).astype('f4')},
                    present={'audio': np.ones(n, bool), 'video': np.ones(n, bool)})


@pytest.fixture
def npz(tmp_path) -> Path:
    path = tmp_path / 'feats.npz'
    tiny_features([tmp_path / f'c{i}.mp4' for i in range(3)]).save(str(path))
    return path


@pytest.mark.parametrize('topk', ['0', '-2'])
def test_topk_below_one_is_refused(npz, topk, capsys):
    from tools.search import main
    with pytest.raises(SystemExit):
        main([str(npz), '--query', '0', '--topk', topk])
    assert f'--topk: must be at least 1, got {int(topk)}' in capsys.readouterr().err
    with pytest.raises(ValueError, match='topk must be a positive whole number'):
        search(Features.load(str(npz)), 0, topk=int(topk))


def test_embedding_widths_that_differ_are_named(tmp_path):
    from tools.search import main
    path = tmp_path / 'mixed.npz'
    tiny_features([tmp_path / 'a.mp4', tmp_path / 'b.mp4'], audio_dim=4, video_dim=6).save(
        str(path))
    with pytest.raises(SystemExit, match='a2v compares audio embeddings of dimension 4 with '
                       'video embeddings of dimension 6.*use a2a or v2v'):
        main([str(path), '--query', '0'])
    assert len(main([str(path), '--query', '0', '--direction', 'v2v']).indices) == 2


def test_foreign_empty_and_missing_files_are_named(tmp_path):
    from tools.search import main
    foreign = tmp_path / 'other.npz'
    np.savez(foreign, weights=np.zeros(3))
    with pytest.raises(SystemExit, match=rf"{foreign} has no field 'files' \(has \['weights'\]\)"):
        main([str(foreign), '--query', '0'])
    empty = tmp_path / 'empty.npz'
    empty.write_bytes(b'')
    with pytest.raises(SystemExit, match=rf'{empty} is not an embedding file .*an empty file'):
        main([str(empty), '--query', '0'])
    single = tmp_path / 'one.npy'
    np.save(single, np.zeros(3))
    with pytest.raises(SystemExit, match=rf'{single} is not an embedding file .*one float64'):
        main([str(single), '--query', '0'])
    with pytest.raises(SystemExit, match='no embedding file'):
        main([str(tmp_path / 'missing.npz'), '--query', '0'])


def test_html_into_a_missing_folder_is_written(npz, tmp_path):
    from tools.search import main
    page = tmp_path / 'new' / 'sub' / 'page.html'
    main([str(npz), '--query', '0', '--html', str(page)])
    assert page.read_text().count('<div class="card">') == 4  # the query and 3 results


class _Sources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == 'audio':
            self.sources.append(dict(attrs)['src'])  # entities already decoded


def test_page_links_reach_files_of_any_name(tmp_path):
    names = ['a#b.mp4', 'x%41.mp4', 'tab\there.mp4', 'new\nline.mp4', 'q?.mp4', 'plain.mp4']
    files = [tmp_path / 'my clips' / name for name in names]
    feats = tiny_features(files)
    page = write_html(search(feats, 'plain.mp4', direction='a2a', topk=6), feats,
                      str(tmp_path / 'page.html'))
    parser = _Sources()
    parser.feed(Path(page).read_text())
    assert len(parser.sources) == 7  # the query, then 6 results
    base = Path(page).parent.as_uri() + '/'
    reached = set()
    for src in parser.sources:
        url = urllib.parse.urlsplit(urllib.parse.urljoin(base, src))  # as a browser resolves
        assert not url.fragment and not url.query, src
        reached.add(urllib.request.url2pathname(url.path))
    assert reached == {str(f) for f in files}


def test_folder_scans_take_audio_files_and_list_what_they_skip(tiny_model, tmp_path, capsys):
    from tools.extract_features import main
    folder = tmp_path / 'media'
    write_clip(folder / 'av.mp4', 1)
    write_clip(folder / 'voice.m4a', 2, video=False)
    (folder / 'notes.txt').write_text('not media')
    assert [osp.basename(f) for f in resolve_sources(str(folder))] == ['av.mp4', 'voice.m4a']
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': tiny_model.state_dict()}, ckpt)
    feats = main([str(TINY), str(ckpt), str(folder), '--out', str(tmp_path / 'f.npz'),
                  '--workers', '0'])
    assert [osp.basename(f) for f in feats.files] == ['av.mp4', 'voice.m4a']
    assert feats.present['audio'].tolist() == [True, True]
    assert feats.present['video'].tolist() == [True, False]
    assert 'skipped 1 file(s) of the folders without a media extension' in \
        capsys.readouterr().out
