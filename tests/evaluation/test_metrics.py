"""Metrics against independent hand-written computations, on random and edge-case inputs."""
import pytest
import torch

from mavil.evaluation import Accuracy, MeanAveragePrecision, RetrievalRecall
from mavil.evaluation.metrics import average_precision


# ------------------------------------------------------------------ independent references
def reference_ap(scores: list[float], target: list[int]) -> float:
    """Step-wise AP by explicit thresholding at every distinct score (sklearn's definition):
    sum over thresholds t (descending) of (recall(t) - recall(previous t)) * precision(t)."""
    positives = sum(target)
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(scores), reverse=True):
        chosen = [y for s, y in zip(scores, target) if s >= t]
        tp = sum(chosen)
        precision, recall = tp / len(chosen), tp / positives
        ap += (recall - prev_recall) * precision
        prev_recall = recall
    return ap


def reference_map(scores: torch.Tensor, target: torch.Tensor) -> tuple[float, list[int]]:
    aps, skipped = [], []
    for c in range(scores.shape[1]):
        col, tgt = scores[:, c].tolist(), [int(v) for v in target[:, c].tolist()]
        if sum(tgt) == 0:
            skipped.append(c)
            continue
        aps.append(reference_ap(col, tgt))
    return 100 * sum(aps) / len(aps), skipped


def reference_topk(scores: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """Correct when fewer than k OTHER classes score at least as high as the true class."""
    hits = 0
    for row, y in zip(scores.tolist(), labels.tolist()):
        rivals = sum(1 for c, s in enumerate(row) if c != y and s >= row[y])
        hits += rivals < k
    return 100 * hits / len(labels)


def multi_hot(labels: list[list[int]], num_classes: int) -> torch.Tensor:
    t = torch.zeros(len(labels), num_classes)
    for i, ls in enumerate(labels):
        t[i, ls] = 1
    return t


# ------------------------------------------------------------------------------------ mAP
@pytest.mark.parametrize('seed', range(5))
def test_map_matches_reference_on_random_multilabel_data(seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(60, 7, generator=g)
    if seed % 2:  # coarse scores: many ties within a class
        scores = (scores * 4).round() / 4
    target = (torch.rand(60, 7, generator=g) < 0.3).float()
    target[0] = 1  # every class has a positive
    out = MeanAveragePrecision.calculate(scores, target)
    expected, skipped = reference_map(scores, target)
    assert skipped == [] and out['skipped'] == []
    assert out['mAP'] == pytest.approx(expected, abs=1e-9)


def test_map_ties_and_perfect_and_worst_rankings():
    # all scores tied: AP = prevalence (one threshold, precision = P / N)
    scores = torch.full((5, 1), 0.3)
    target = torch.tensor([[1.], [0.], [1.], [0.], [0.]])
    assert MeanAveragePrecision.calculate(scores, target)['mAP'] == pytest.approx(40.0)
    # positives ranked first: AP 100; ranked last: mean of k / (N - P + k)
    scores = torch.tensor([[0.9], [0.8], [0.1], [0.05]])
    assert MeanAveragePrecision.calculate(scores, torch.tensor([[1.], [1.], [0.], [0.]])
                                          )['mAP'] == pytest.approx(100.0)
    worst = MeanAveragePrecision.calculate(scores, torch.tensor([[0.], [0.], [1.], [1.]]))
    assert worst['mAP'] == pytest.approx(100 * (1 / 3 + 2 / 4) / 2)
    # a positive tied with a negative at the top: both enter at once (precision 1/2)
    scores = torch.tensor([[0.9], [0.9], [0.1]])
    tied = MeanAveragePrecision.calculate(scores, torch.tensor([[1.], [0.], [1.]]))
    assert tied['mAP'] == pytest.approx(100 * (0.5 * 0.5 + 0.5 * 2 / 3))


def test_map_skips_classes_without_positives_and_says_so(monkeypatch):
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(20, 4, generator=g)
    target = (torch.rand(20, 4, generator=g) < 0.5).float()
    target[:, 2] = 0  # all-negative class
    out = MeanAveragePrecision.calculate(scores, target)
    expected, skipped = reference_map(scores, target)
    assert out['skipped'] == skipped == [2]
    assert out['mAP'] == pytest.approx(expected)
    assert torch.isnan(out['AP'][2]) and not torch.isnan(out['AP'][[0, 1, 3]]).any()

    logged = []
    monkeypatch.setattr(average_precision, 'print_log', lambda msg, **kwargs: logged.append(msg))
    metric = MeanAveragePrecision()
    metric.dataset_meta = dict(classes=('dog', 'cat', 'siren', 'rain'))
    samples = [dict(pred_score=scores[i], labels=target[i].nonzero().flatten())
               for i in range(20)]
    metric.process({}, samples)
    result = metric.evaluate(20)
    assert result['mAP'] == pytest.approx(expected)
    log = ' '.join(logged)
    assert '1 of 4 classes have no positive sample' in log and 'siren' in log


def test_map_bad_inputs():
    with pytest.raises(ValueError, match='empty evaluation set'):
        MeanAveragePrecision.calculate(torch.zeros(0, 3), torch.zeros(0, 3))
    with pytest.raises(ValueError, match='no class has a positive'):
        MeanAveragePrecision.calculate(torch.rand(4, 3), torch.zeros(4, 3))
    with pytest.raises(ValueError, match='NaN'):
        MeanAveragePrecision.calculate(torch.tensor([[float('nan')]]), torch.ones(1, 1))
    metric = MeanAveragePrecision()
    metric.process({}, [dict(pred_score=torch.rand(3), labels=torch.tensor([5]))])
    with pytest.raises(ValueError, match=r'labels \[5\] outside \[0, 3\)'):
        metric.evaluate(1)
    with pytest.raises(ValueError, match='empty evaluation set'):
        MeanAveragePrecision().compute_metrics([])


# ------------------------------------------------------------------------------- accuracy
@pytest.mark.parametrize('seed', range(4))
def test_accuracy_matches_reference_with_ties(seed):
    g = torch.Generator().manual_seed(seed)
    scores = (torch.rand(50, 9, generator=g) * 3).round()  # heavy ties
    labels = torch.randint(0, 9, (50, ), generator=g)
    out = Accuracy.calculate(scores, labels, topk=(1, 3, 5))
    for k in (1, 3, 5):
        assert out[f'top{k}'] == pytest.approx(reference_topk(scores, labels, k))


def test_accuracy_tie_convention_and_edges():
    # true class tied with another for the top score: not top-1, but top-2
    scores = torch.tensor([[0.5, 0.5, 0.1]])
    out = Accuracy.calculate(scores, torch.tensor([0]), topk=(1, 2))
    assert out == {'top1': 0.0, 'top2': 100.0}
    # constant (collapsed) predictions score 0, not a lucky tie-break
    assert Accuracy.calculate(torch.ones(4, 6), torch.arange(4), (1, ))['top1'] == 0.0
    # k beyond the number of classes is skipped, not a trivial 100%
    assert 'top5' not in Accuracy.calculate(torch.rand(3, 4), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='outside'):
        Accuracy.calculate(torch.rand(2, 4), torch.tensor([0, 4]))
    metric = Accuracy(topk=(1, ))
    metric.process({}, [dict(pred_score=torch.rand(4), labels=torch.tensor([1, 2]))])
    with pytest.raises(ValueError, match='exactly one label'):
        metric.evaluate(1)
    with pytest.raises(ValueError, match='empty evaluation set'):
        Accuracy().compute_metrics([])


# ------------------------------------------------------------------------------ retrieval
def test_recall_and_median_rank_on_constructed_similarities():
    n = 12
    # identity: every query finds its item first
    out = RetrievalRecall.calculate(torch.eye(n), ks=(1, 5, 10))
    assert out == {'R@1': 100.0, 'R@5': 100.0, 'R@10': 100.0, 'MedR': 1.0, 'MeanR': 1.0}
    # true item of query i ranked exactly r_i: sim[i, i] = 0, r_i - 1 items score 1, others -1
    ranks = torch.tensor([1, 2, 3, 5, 6, 10, 11, 12, 1, 4, 7, 2])
    sim = -torch.ones(n, n)
    sim.fill_diagonal_(0.0)
    for i, r in enumerate(ranks.tolist()):
        others = [j for j in range(n) if j != i][:r - 1]
        sim[i, others] = 1.0
    assert torch.equal(RetrievalRecall.ranks(sim), ranks)
    out = RetrievalRecall.calculate(sim, ks=(1, 5, 10))
    assert out['R@1'] == pytest.approx(100 * 2 / 12)
    assert out['R@5'] == pytest.approx(100 * 7 / 12)
    assert out['R@10'] == pytest.approx(100 * 10 / 12)
    assert out['MedR'] == pytest.approx(4.5)  # even count: mean of the middle ranks 4 and 5
    assert out['MeanR'] == pytest.approx(ranks.double().mean().item())


def test_retrieval_ties_rank_the_true_item_last():
    # query 0's item ties with two others at the top: rank 3 (conservative convention)
    sim = torch.tensor([[0.9, 0.9, 0.9, 0.1],
                        [0.0, 0.8, 0.8, 0.0],
                        [0.0, 0.0, 0.7, 0.0],
                        [0.5, 0.5, 0.5, 0.5]])
    assert RetrievalRecall.ranks(sim).tolist() == [3, 2, 1, 4]
    # collapsed embeddings: every true item is last
    constant = RetrievalRecall.calculate(torch.ones(5, 5), ks=(1, ))
    assert constant['R@1'] == 0.0 and constant['MedR'] == 5.0
    with pytest.raises(ValueError, match='square'):
        RetrievalRecall.ranks(torch.rand(3, 4))


def test_retrieval_metric_both_directions_from_embeddings():
    g = torch.Generator().manual_seed(0)
    audio = torch.randn(10, 8, generator=g)
    video = audio + 0.1 * torch.randn(10, 8, generator=g)
    video[3] = -audio[3]  # pair 3 misaligned
    metric = RetrievalRecall(ks=(1, 5))
    metric.process({}, [dict(audio_embedding=a, video_embedding=v) for a, v in zip(audio, video)])
    out = metric.evaluate(10)
    sim = torch.nn.functional.normalize(audio, dim=1) @ torch.nn.functional.normalize(
        video, dim=1).t()
    for direction, matrix in (('a2v', sim), ('v2a', sim.t())):
        ranks = [int((row >= row[i]).sum()) for i, row in enumerate(matrix)]
        assert out[f'{direction}_R@1'] == pytest.approx(100 * sum(r <= 1 for r in ranks) / 10)
        assert out[f'{direction}_R@5'] == pytest.approx(100 * sum(r <= 5 for r in ranks) / 10)
        assert out[f'{direction}_MedR'] == pytest.approx(float(torch.tensor(
            ranks, dtype=torch.float64).quantile(0.5)))
    assert out['a2v_R@1'] == pytest.approx(90.0)
    with pytest.raises(ValueError, match='empty evaluation set'):
        RetrievalRecall().compute_metrics([])
