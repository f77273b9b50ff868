"""inference_classifier / tools/predict.py on a tiny AVClassifier and real files."""
import numpy as np
import pytest
import torch

from mavil.apis import ClipLoader, inference_classifier, init_model
from .conftest import REPO

TINY_FT = REPO / 'tests/fixtures/configs/tiny_ft_av_files.py'

CLASSES = [f'sound_{i}' for i in range(8)]


@pytest.fixture(scope='module')
def classifier():
    torch.manual_seed(0)
    return init_model(str(TINY_FT))


def test_scores_equal_hand_forward(classifier, clip_dir):
    path = str(clip_dir / 'av_1.mp4')
    res = inference_classifier(classifier, path, topk=3)
    # reference: each clip through encoders + fusion + head, sigmoid, averaged over clips
    sample = ClipLoader(classifier.cfg)(path)
    inputs = classifier.data_preprocessor(
        {'inputs': {m: [x] for m, x in sample['inputs'].items()}}, False)['inputs']
    assert inputs['video'].shape[1] == 2  # [B, clips, 3, T, H, W]
    with torch.no_grad():
        per_clip = []
        for c in range(2):
            a = classifier.audio_encoder(inputs['audio'], masked=False)[0]
            v = classifier.video_encoder(inputs['video'][:, c], masked=False)[0]
            a, v = classifier.av_fusion(a, v)
            feat = torch.cat([a[:, 1:].mean(1), v[:, 1:].mean(1)], dim=-1)
            per_clip.append(classifier.head(feat).sigmoid())
        expected = torch.stack(per_clip).mean(0)[0].numpy()
    np.testing.assert_allclose(res['scores'], expected, rtol=1e-5, atol=1e-6)
    order = np.argsort(-expected)[:3]
    assert res['pred_indices'] == order.tolist()
    assert res['pred_labels'] == [CLASSES[i] for i in order]


def test_predict_tool(classifier, clip_dir, tmp_path, capsys):
    from tools.predict import main
    ckpt = tmp_path / 'ft.pth'
    torch.save({'state_dict': classifier.state_dict()}, ckpt)
    out = tmp_path / 'pred.json'
    results = main([str(TINY_FT), str(ckpt), str(clip_dir / 'av_0.mp4'),
                    str(clip_dir / 'broken.mp4'), '--topk', '2', '--out', str(out)])
    direct = inference_classifier(classifier, str(clip_dir / 'av_0.mp4'), topk=2)
    assert results[0]['pred_labels'] == direct['pred_labels']
    np.testing.assert_allclose(results[0]['pred_scores'], direct['pred_scores'], rtol=1e-5)
    assert 'error' in results[1]
    assert 'broken.mp4: unusable' in capsys.readouterr().out
    assert out.is_file()


def test_not_a_classifier(tiny_model, clip_dir):
    with pytest.raises(TypeError, match='not a classifier'):
        inference_classifier(tiny_model, str(clip_dir / 'av_0.mp4'))
