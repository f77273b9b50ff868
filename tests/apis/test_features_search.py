"""extract_features vs model.extract_feat, search vs a hand cosine ranking, the tools."""
import math
import os.path as osp

import numpy as np
import pytest
import torch

from mavil.apis import ClipLoader, Features, extract_features
from mavil.apis.search import cosine_ranking, search, write_html
from .conftest import TINY


def reference_embeddings(model, path, modalities):
    """The model's own route: test pipeline -> data preprocessor -> extract_feat."""
    sample = ClipLoader(model.cfg)(path, modalities)
    batch = {'inputs': {m: [x] for m, x in sample['inputs'].items()}}
    pre = model.data_preprocessor
    saved = pre.modalities
    pre.modalities = tuple(modalities)
    try:
        inputs = pre(batch, False)['inputs']
    finally:
        pre.modalities = saved
    return {m: e[0].numpy() for m, e in model.extract_feat(inputs).items()}


@pytest.fixture(scope='module')
def feats(tiny_model, clip_dir):
    return extract_features(tiny_model, clip_dir, batch_size=3, with_tokens=True)


def test_embeddings_equal_extract_feat(tiny_model, clip_dir, feats):
    names = [osp.basename(f) for f in feats.files]
    assert names == ['audio_only.mp4', 'av_0.mp4', 'av_1.mp4', 'av_2.mp4', 'av_3.mp4',
                     'video_only.mp4']
    for i, f in enumerate(feats.files):
        have = {'audio_only.mp4': ('audio', ), 'video_only.mp4': ('video', )}.get(
            osp.basename(f), ('audio', 'video'))
        ref = reference_embeddings(tiny_model, f, have)
        for m in ('audio', 'video'):
            assert feats.present[m][i] == (m in have), (f, m)
            if m in have:
                np.testing.assert_allclose(feats.embeddings[m][i], ref[m], rtol=1e-5,
                                           atol=1e-6)
                # tokens: [CLS] + grid; their patch mean is the embedding
                np.testing.assert_allclose(feats.tokens[m][i][1:].mean(0), ref[m], atol=1e-5)
            else:
                assert np.isnan(feats.embeddings[m][i]).all()
    assert feats.tokens['audio'].shape[1:] == (1 + tiny_model.audio_encoder.num_patches, 64)


def test_unusable_files_listed_with_reason(feats):
    failed = {osp.basename(f): reason for f, reason in feats.failed}
    assert set(failed) == {'broken.mp4', 'empty.mp4'}
    assert 'empty' in failed['empty.mp4']
    assert 'cannot open' in failed['broken.mp4'] or 'media' in failed['broken.mp4']


def test_npz_round_trip_without_pickle(feats, tmp_path):
    path = str(tmp_path / 'f.npz')
    feats.save(path)
    with np.load(path, allow_pickle=False) as data:
        assert data['audio'].shape == feats.embeddings['audio'].shape
        assert list(data['files']) == feats.files
    back = Features.load(path)
    assert back.files == feats.files and back.failed == feats.failed
    for m in feats.embeddings:
        np.testing.assert_array_equal(back.embeddings[m], feats.embeddings[m])
        np.testing.assert_array_equal(back.present[m], feats.present[m])
    written = feats.save_per_file(str(tmp_path / 'per_file'))
    assert len(written) == int(sum(p.sum() for p in feats.present.values()))
    np.testing.assert_array_equal(np.load(tmp_path / 'per_file' / 'av_2.video.npy'),
                                  feats.embeddings['video'][feats.files.index(
                                      str(next(f for f in feats.files if 'av_2' in f)))])


def hand_ranking(query, gallery, valid):
    sims = []
    for i, row in enumerate(gallery):
        if not valid[i]:
            continue
        dot = sum(float(a) * float(b) for a, b in zip(query, row))
        norm = math.sqrt(sum(float(a) ** 2 for a in query)) * math.sqrt(
            sum(float(b) ** 2 for b in row))
        sims.append((dot / norm, i))
    sims.sort(key=lambda s: -s[0])
    return [i for _, i in sims], [s for s, _ in sims]


@pytest.mark.parametrize('direction', ['a2v', 'v2a'])
def test_search_ranks_equal_hand_cosine(feats, direction):
    q_mod, g_mod = ('audio', 'video') if direction == 'a2v' else ('video', 'audio')
    query = next(i for i in range(len(feats.files)) if feats.present[q_mod][i])
    result = search(feats, query, direction=direction, topk=10)
    ranks, sims = hand_ranking(feats.embeddings[q_mod][query], feats.embeddings[g_mod],
                               feats.present[g_mod])
    assert result.indices == ranks
    np.testing.assert_allclose(result.scores, sims, rtol=1e-6, atol=1e-7)
    assert len(result.indices) == int(feats.present[g_mod].sum())  # absent rows left out


def test_cosine_ranking_small_case():
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    rows, sims = cosine_ranking(np.array([2.0, 0.0]), gallery, np.array([1, 1, 1, 0], bool))
    assert rows.tolist() == [0, 2, 1]
    np.testing.assert_allclose(sims, [1.0, 1 / math.sqrt(2), 0.0])


def test_search_errors(feats):
    with pytest.raises(ValueError, match='no video stream'):
        search(feats, 'audio_only.mp4', direction='v2a')
    with pytest.raises(KeyError, match='failed to load'):
        search(feats, 'broken.mp4')
    with pytest.raises(IndexError):
        search(feats, 99)


def test_tools_extract_search_html(tiny_model, clip_dir, tmp_path, capsys):
    from tools.extract_features import main as extract_main
    from tools.search import main as search_main

    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': tiny_model.state_dict()}, ckpt)
    out = tmp_path / 'feats.npz'
    feats = extract_main([str(TINY), str(ckpt), str(clip_dir), '--out', str(out),
                          '--workers', '0', '--per-file', str(tmp_path / 'npy')])
    assert (tmp_path / 'feats.failed.csv').read_text().count('\n') == 3  # header + 2
    page = tmp_path / 'page.html'
    result = search_main([str(out), '--query', 'av_1.mp4', '--direction', 'a2v', '--topk',
                          '3', '--html', str(page)])
    printed = capsys.readouterr().out
    assert 'av_1.mp4' in printed and len(result.indices) == 3
    expected, _ = hand_ranking(feats.embeddings['audio'][result.query_index],
                               feats.embeddings['video'], feats.present['video'])
    assert result.indices == expected[:3]
    text = page.read_text()
    with_audio = 1 + sum(bool(feats.present['audio'][i]) for i in result.indices)
    assert text.count('<audio') == with_audio  # video-only files get no player
    assert text.count('data:image/png;base64,') == 4  # query + 3 results, all have frames
    with pytest.raises(SystemExit, match='matches 0 files'):
        search_main([str(out), '--query', 'nope.mp4'])


def test_html_page_in_headless_chromium(feats, tmp_path):
    """Render the result page in headless Chromium and check the screenshot shows the
    thumbnails (skipped where Chromium is not installed)."""
    from .chromium import chromium_binary, screenshot
    binary = chromium_binary()
    if binary is None:
        pytest.skip('chromium is not installed (apt-get install chromium)')
    page = write_html(search(feats, 'av_0.mp4', direction='a2v', topk=5), feats,
                      str(tmp_path / 'page.html'))
    png = screenshot(binary, page, str(tmp_path / 'page.png'), tmp_path / 'profile')
    from PIL import Image
    image = np.asarray(Image.open(png).convert('RGB')).astype(int)
    assert image.shape[0] >= 400 and image.shape[1] >= 800
    # the thumbnails' dark background (#222 boxes) is drawn: the page rendered its images
    dark = (image.max(axis=2) < 60).mean()
    assert dark > 0.02, f'only {dark:.3f} of the screenshot is dark'
