"""InfoNCE (Eq. 2-3) against a hand-written double loop over i, j."""
import math

import pytest
import torch

from mavil.models.losses import InfoNCELoss


def cosine(u: list[float], v: list[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v))
    return dot / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))


def reference_lc(x: torch.Tensor, y: torch.Tensor, tau: float) -> float:
    """Eq. 2: -1/B sum_i log( exp(S(x_i, y_i)/tau) / sum_j exp(S(x_i, y_j)/tau) )."""
    xs, ys = x.double().tolist(), y.double().tolist()
    B = len(xs)
    total = 0.0
    for i in range(B):
        numerator = math.exp(cosine(xs[i], ys[i]) / tau)
        denominator = 0.0
        for j in range(B):
            denominator += math.exp(cosine(xs[i], ys[j]) / tau)
        total += -math.log(numerator / denominator)
    return total / B


def reference_accuracy(x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows i whose most similar y_j is y_i."""
    xs, ys = x.double().tolist(), y.double().tolist()
    hits = 0
    for i in range(len(xs)):
        sims = [cosine(xs[i], ys[j]) for j in range(len(ys))]
        hits += int(max(range(len(ys)), key=lambda j: sims[j]) == i)
    return hits / len(xs)


@pytest.mark.parametrize('tau', [0.05, 0.1, 1.0])
@pytest.mark.parametrize('loss_weight', [1.0, 0.1])
def test_symmetric_matches_double_loop(tau, loss_weight):
    x, y = torch.randn(6, 16), torch.randn(6, 16)
    out = InfoNCELoss(temperature=tau, loss_weight=loss_weight, symmetric=True)(x, y)
    expected = loss_weight * 0.5 * (reference_lc(x, y, tau) + reference_lc(y, x, tau))
    assert out.loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize('tau', [0.1, 1.0])
def test_non_symmetric_matches_double_loop(tau):
    x, y = torch.randn(5, 8), torch.randn(5, 8)
    out = InfoNCELoss(temperature=tau, loss_weight=0.01, symmetric=False)(x, y)
    expected = 0.01 * reference_lc(x, y, tau)
    assert out.loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-8)
    # the two directions genuinely differ, so symmetric averaging is observable
    assert reference_lc(x, y, tau) != pytest.approx(reference_lc(y, x, tau), rel=1e-3)


def test_temperature_changes_loss_and_cosine_is_scale_invariant():
    x, y = torch.randn(4, 8), torch.randn(4, 8)
    loss = InfoNCELoss(temperature=0.1)(x, y).loss
    assert InfoNCELoss(temperature=1.0)(x, y).loss.item() != pytest.approx(loss.item())
    # cosine similarity: positive rescaling of any row does not change the loss
    scale = torch.rand(4, 1) * 10 + 0.1
    assert InfoNCELoss(temperature=0.1)(x * scale, y).loss.item() == pytest.approx(
        loss.item(), rel=1e-5)


def test_accuracy_diagnostic():
    # orthogonal rows; y swaps rows 2 and 3 -> exactly half the rows hit their positive
    x = torch.eye(4, 8)
    y = x[[0, 1, 3, 2]] + 0.01 * torch.randn(4, 8)
    nonsym = InfoNCELoss(symmetric=False)(x, y)
    assert nonsym.accuracy.item() == pytest.approx(reference_accuracy(x, y)) == 0.5
    sym = InfoNCELoss(symmetric=True)(x, y)
    expected = (reference_accuracy(x, y) + reference_accuracy(y, x)) / 2
    assert sym.accuracy.item() == pytest.approx(expected)
    assert not sym.accuracy.requires_grad

    x, y = torch.randn(7, 5), torch.randn(7, 5)
    out = InfoNCELoss(symmetric=False)(x, y)
    assert out.accuracy.item() == pytest.approx(reference_accuracy(x, y))


def test_gradients_reach_both_inputs_and_no_gather_outside_ddp():
    x = torch.randn(4, 8, requires_grad=True)
    y = torch.randn(4, 8, requires_grad=True)
    gathered = InfoNCELoss(gather_distributed=True)(x, y).loss
    local = InfoNCELoss(gather_distributed=False)(x, y).loss
    assert gathered.item() == pytest.approx(local.item())
    gathered.backward()
    assert x.grad is not None and y.grad is not None
    assert x.grad.abs().sum() > 0 and y.grad.abs().sum() > 0


def test_global_batch_of_one_raises():
    with pytest.raises(ValueError, match='at least 2'):
        InfoNCELoss()(torch.randn(1, 8), torch.randn(1, 8))
    with pytest.raises(ValueError, match='at least 2'):
        InfoNCELoss(symmetric=False, gather_distributed=False)(torch.randn(1, 8),
                                                               torch.randn(1, 8))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='temperature'):
        InfoNCELoss(temperature=0.0)
    with pytest.raises(ValueError, match='equal shape'):
        InfoNCELoss()(torch.randn(4, 8), torch.randn(4, 6))
    with pytest.raises(ValueError, match='equal shape'):
        InfoNCELoss()(torch.randn(4, 8), torch.randn(3, 8))


def reference_standardize(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per column: (x - mean) / sqrt(mean((x - mean)^2) + eps), by explicit loops."""
    rows = x.double().tolist()
    n, d = len(rows), len(rows[0])
    out = [[0.0] * d for _ in range(n)]
    for k in range(d):
        mean = sum(r[k] for r in rows) / n
        var = sum((r[k] - mean) ** 2 for r in rows) / n
        for i in range(n):
            out[i][k] = (rows[i][k] - mean) / math.sqrt(var + eps)
    return torch.tensor(out)


@pytest.mark.parametrize('symmetric', [True, False])
def test_batch_standardize_matches_hand_formula(symmetric):
    x, y = torch.randn(6, 5) * 3 + 2, torch.randn(6, 5) - 1
    out = InfoNCELoss(temperature=0.1, batch_standardize=True, symmetric=symmetric)(x, y)
    xs, ys = reference_standardize(x), reference_standardize(y)
    expected = reference_lc(xs, ys, 0.1)
    if symmetric:
        expected = 0.5 * (expected + reference_lc(ys, xs, 0.1))
    assert out.loss.item() == pytest.approx(expected, rel=1e-5)


def test_batch_standardize_ignores_a_shared_component():
    """Embeddings dominated by one shared vector: Eq. 2's loss sits at ln B whatever the
    pairing; standardised, the loss sees only what differs between clips."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 16, generator=g)
    y = x + 0.1 * torch.randn(8, 16, generator=g)  # paired rows are close
    shared = 100 * torch.randn(1, 16, generator=g)
    plain = InfoNCELoss(temperature=0.1, loss_weight=1.0)
    assert plain(x + shared, y + shared).loss.item() == pytest.approx(math.log(8), abs=0.02)
    std = InfoNCELoss(temperature=0.1, loss_weight=1.0, batch_standardize=True)
    assert std(x + shared, y + shared).loss.item() == pytest.approx(std(x, y).loss.item(),
                                                                      rel=1e-4)
    assert std(x + shared, y + shared).loss.item() < 0.5 * math.log(8)
    assert std(x + shared, y + shared).accuracy.item() == 1.0


def test_paper_configs_keep_eq2_unstandardised():
    """batch_standardize is a demo setting: the paper's stage-1 config compares the pooled
    embeddings as Eq. 2 does, with tau 0.1 and alpha 0.1."""
    from pathlib import Path

    from mavil.apis import load_config
    root = Path(__file__).resolve().parents[3]
    inter = load_config(str(root / 'configs/mavil/stage1.py')).model.inter_loss
    assert not inter.get('batch_standardize', False)
    assert (inter.temperature, inter.loss_weight) == (0.1, 0.1)
    assert load_config(str(root / 'configs/demo/stage1.py')).model.inter_loss.batch_standardize
