"""Demo evaluation functions against hand computations."""
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config

import mavil.models  # noqa: F401
from mavil.demo.evaluate import (EvalSplit, a2v_recall, chance_accuracy, evaluate_embeddings,
                                 extract_embeddings, fit_logistic, linear_probe)
from mavil.demo.report import aggregate, format_report, markdown_table
from mavil.demo.run import REPO_ROOT
from mavil.demo.stages import set_iters
from mavil.registry import MODELS


def test_a2v_recall_by_hand():
    audio = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])
    video = torch.tensor([[2., 0.], [1., 1.], [0., 3.]])  # scale must not matter (cosine)
    # cosine rows: a0 [1, .71, 0] -> rank 1; a1 [0, .71, 1] -> rank 2;
    # a2 [.71, 1, .71]: col 1 is higher and col 0 ties with the true col 2 -> rank 3
    assert a2v_recall(audio, video, ks=(1, 2, 3)) == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 1.0})


def test_a2v_recall_collapsed_embeddings_score_zero_not_perfect():
    same = torch.ones(4, 8)
    assert a2v_recall(same, same, ks=(1, 3)) == {1: 0.0, 3: 0.0}


def test_a2v_recall_perfect_pairs():
    x = torch.eye(5)
    assert a2v_recall(x, 3 * x, ks=(1, 5)) == {1: 1.0, 5: 1.0}


def test_chance_accuracy_is_the_majority_rate():
    assert chance_accuracy(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 2, 2]), 3) == 0.25
    balanced = torch.arange(8).repeat(3)
    assert chance_accuracy(balanced, balanced, 8) == pytest.approx(1 / 8)


def test_linear_probe_separates_separable_classes():
    centers = torch.tensor([[4., 0.], [0., 4.], [-4., -4.]])
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat(20)
    x = centers[labels] + torch.randn(60, 2, generator=g)
    result = linear_probe(x[:45], labels[:45], x[45:], labels[45:], 3)
    assert result.test_accuracy == 1.0 and result.train_accuracy == 1.0


def test_linear_probe_on_uninformative_features_predicts_the_majority():
    # constant features: only the bias can fit, i.e. the training prior (majority class 0)
    train_y, test_y = torch.tensor([0, 0, 1, 0, 0, 1]), torch.tensor([0, 1, 1])
    result = linear_probe(torch.ones(6, 4), train_y, torch.ones(3, 4), test_y, 2, folds=2)
    assert result.test_accuracy == pytest.approx(1 / 3)
    assert result.train_accuracy == pytest.approx(4 / 6)


def test_linear_probe_is_deterministic():
    x, y = torch.randn(30, 6), torch.arange(3).repeat(10)
    assert linear_probe(x, y, x, y, 3) == linear_probe(x, y, x, y, 3)


def test_linear_probe_does_not_depend_on_the_features_linear_map():
    # An encoder ending in another invertible linear layer carries the same information: the
    # probe must score it the same (a few gradient steps on standardised features do not).
    g = torch.Generator().manual_seed(1)
    y = torch.arange(4).repeat(30)
    x = torch.randn(120, 8, generator=g) + 0.8 * torch.nn.functional.one_hot(y, 8).float()
    mixing = torch.randn(8, 8, generator=g) @ torch.diag(torch.logspace(-2, 1, 8))
    mixed = x @ mixing + 5.0
    a = linear_probe(x[:80], y[:80], x[80:], y[80:], 4)
    b = linear_probe(mixed[:80], y[:80], mixed[80:], y[80:], 4)
    assert (a.test_accuracy, a.train_accuracy, a.weight_decay) == \
        (b.test_accuracy, b.train_accuracy, b.weight_decay)


def test_fit_logistic_reaches_the_optimum_of_a_reference_solver():
    # the same objective (L2 logistic regression on whitened features) solved independently:
    # numpy whitening and 20000 plain gradient-descent steps
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)) @ np.array([[2., 0, 0], [1, 0.1, 0], [0, 0, 5]])
    y = (x[:, 0] + 3 * x[:, 1] + rng.normal(scale=0.5, size=40) > 0).astype(np.int64)
    wd = 0.1
    mean = x.mean(0)
    evals, evecs = np.linalg.eigh(np.cov(x.T, bias=True))
    xw = (x - mean) @ (evecs / np.sqrt(evals))
    w, b = np.zeros((3, 2)), np.zeros(2)
    for _ in range(20000):
        logits = xw @ w + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(40), y] -= 1
        w -= 0.5 * (xw.T @ p / 40 + wd * w)
        b -= 0.5 * p.mean(0)
    grid = rng.normal(size=(500, 3)) * 3
    expected = (((grid - mean) @ (evecs / np.sqrt(evals))) @ w + b).argmax(1)
    predict = fit_logistic(torch.from_numpy(x), torch.from_numpy(y), 2, wd)
    assert (predict(torch.from_numpy(grid)).numpy() == expected).mean() > 0.995


def test_evaluate_embeddings_row():
    labels = torch.tensor([0, 1, 2, 3])
    test = {'audio': torch.eye(4), 'video': 2 * torch.eye(4)}
    row = evaluate_embeddings(test, labels, test, labels, 4, probe_steps=100)
    assert row == pytest.approx(dict(a2v_r1=1.0, a2v_r5=1.0, v2a_r1=1.0, v2a_r5=1.0,
                                     chance_r1=0.25, chance_r5=1.0, audio_probe_acc=1.0,
                                     video_probe_acc=1.0, chance_acc=0.25))


def test_v2a_is_the_other_direction():
    # audio 0 and 1 both sit closest to video 0: a2v gets query 0 right only; from the video
    # side, video 0 is nearest to audio 0 and video 1 nearest to audio 1
    audio = torch.tensor([[1., 0.], [1., 0.1]])
    video = torch.tensor([[1., -0.1], [0., 1.]])
    labels = torch.tensor([0, 1])
    row = evaluate_embeddings({'audio': audio, 'video': video}, labels,
                              {'audio': audio, 'video': video}, labels, 2, probe_steps=5)
    assert row['a2v_r1'] == 0.5 and row['v2a_r1'] == 1.0


def test_extract_embeddings_matches_the_model_and_ignores_batching():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'demo' / 'stage1.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    n = 5
    split = EvalSplit(audio=torch.randn(n, 1, 400, 64),
                      video=torch.randint(0, 256, (n, 3, 8, 64, 64), dtype=torch.uint8),
                      labels=torch.arange(n), filenames=[None] * n)
    got = extract_embeddings(model, split, batch_size=2)
    inputs = model.data_preprocessor({'inputs': {'audio': split.audio, 'video': split.video}},
                                     False)['inputs']
    want = model.extract_feat(inputs)
    for modality in ('audio', 'video'):
        assert got[modality].shape == (n, 128)
        torch.testing.assert_close(got[modality], want[modality], rtol=1e-4, atol=1e-5)
    assert model.training  # restored


def _row(a2v_r1, probe):
    return dict(a2v_r1=a2v_r1, a2v_r5=1.0, v2a_r1=0.5, v2a_r5=1.0, chance_r1=0.25, chance_r5=1.0,
                audio_probe_acc=probe, video_probe_acc=0.5, chance_acc=0.25)


def test_aggregate_mean_and_spread_by_hand():
    rows = {0: {'random_init': _row(0.25, 0.5), 'stage1': _row(0.5, 0.75)},
            1: {'random_init': _row(0.75, 0.25), 'stage1': _row(0.5, 1.0)}}
    report = aggregate(rows, ('random_init', 'mae_only', 'stage1'), n_train=12, n_test=4)
    assert list(report['stages']) == ['random_init', 'stage1']  # mae_only did not run
    r1 = report['stages']['random_init']['a2v_r1']
    assert r1 == dict(mean=0.5, spread=0.25, per_seed=[0.25, 0.75])
    assert report['stages']['stage1']['audio_probe_acc'] == dict(
        mean=0.875, spread=0.125, per_seed=[0.75, 1.0])
    assert report['chance'] == dict(a2v_r1=0.25, a2v_r5=1.0, v2a_r1=0.25, v2a_r5=1.0,
                                    audio_probe_acc=0.25, video_probe_acc=0.25)
    text = format_report(report)
    assert 'random_init' in text and 'chance' in text and '0.500 +-0.250' in text
    assert '| stage1 | 0.500 ± 0.000 |' in markdown_table(report)
    with pytest.raises(ValueError, match='not for all'):
        aggregate({0: {'stage1': _row(0.5, 0.5)}, 1: {}}, ('stage1',), n_train=1, n_test=1)


def test_set_iters():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'demo' / 'stage1.py'))
    set_iters(cfg, 7)
    assert cfg.train_cfg.max_iters == 7 and cfg.default_hooks.checkpoint.interval == 7
    assert cfg.param_scheduler[-1]['end'] == 7
    assert math.isclose(cfg.param_scheduler[0]['end'], 1)
    with pytest.raises(ValueError, match='at least 2'):
        set_iters(cfg, 1)


def test_options_for_every_stage_skip_the_parts_a_stage_switched_off(capsys):
    from mavil.apis import load_config
    from mavil.demo.stages import options_for
    options = {'model.inter_loss.loss_weight': 0.1, 'model.audio_encoder.mask_ratio': 0.8,
               'model.misspelt.x': 1}
    mae_only = str(REPO_ROOT / 'configs/demo/mae_only.py')
    stage1 = str(REPO_ROOT / 'configs/demo/stage1.py')
    assert options_for(load_config(stage1), options, stage1) == options
    kept = options_for(load_config(mae_only), options, mae_only)
    assert kept == {'model.audio_encoder.mask_ratio': 0.8, 'model.misspelt.x': 1}  # typo kept
    assert 'has no model.inter_loss' in capsys.readouterr().out
