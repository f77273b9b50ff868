"""Masked MSE (Eq. 1 / 5): only masked patches count."""
import pytest
import torch

from mavil.models.losses import MaskedMSELoss


def reference_masked_mse(pred, target, mask) -> float:
    """Mean over masked patches (mask == 1) of the per-patch mean squared error."""
    B, N, P = pred.shape
    total, count = 0.0, 0
    for b in range(B):
        for n in range(N):
            if mask[b, n] == 1:
                total += sum((pred[b, n, p].item() - target[b, n, p].item())**2
                             for p in range(P)) / P
                count += 1
    return total / count


def random_mask(B, N, num_masked):
    mask = torch.zeros(B, N)
    for b in range(B):
        mask[b, torch.randperm(N)[:num_masked]] = 1
    return mask


def test_matches_hand_loop():
    pred, target = torch.randn(3, 10, 6), torch.randn(3, 10, 6)
    mask = random_mask(3, 10, 7)
    loss = MaskedMSELoss()(pred, target, mask)
    assert loss.item() == pytest.approx(reference_masked_mse(pred, target, mask), rel=1e-5)
    assert MaskedMSELoss(loss_weight=0.5)(pred, target, mask).item() == pytest.approx(
        0.5 * loss.item(), rel=1e-6)
    # a boolean mask means the same thing
    assert MaskedMSELoss()(pred, target, mask.bool()).item() == pytest.approx(loss.item())


def test_visible_patches_do_not_count():
    pred, target = torch.randn(2, 12, 4), torch.randn(2, 12, 4)
    mask = random_mask(2, 12, 8)
    loss = MaskedMSELoss()(pred, target, mask)
    visible = (mask == 0).unsqueeze(-1)
    changed = torch.where(visible, pred + 100 * torch.randn_like(pred), pred)
    assert MaskedMSELoss()(changed, target, mask).item() == pytest.approx(loss.item())
    changed_masked = torch.where(~visible, pred + 1.0, pred)
    assert MaskedMSELoss()(changed_masked, target, mask).item() != pytest.approx(loss.item())
    # gradient is zero on visible patches
    pred.requires_grad_(True)
    MaskedMSELoss()(pred, target, mask).backward()
    assert torch.all(pred.grad[visible.expand_as(pred)] == 0)
    assert torch.all(pred.grad[~visible.expand_as(pred)] != 0)


def test_mismatched_shapes_raise():
    loss = MaskedMSELoss()
    with pytest.raises(ValueError, match='out_dim'):
        loss(torch.randn(2, 5, 4), torch.randn(2, 5, 3), torch.ones(2, 5))
    with pytest.raises(ValueError, match='mask'):
        loss(torch.randn(2, 5, 4), torch.randn(2, 5, 4), torch.ones(5))
    with pytest.raises(ValueError, match='mask'):
        loss(torch.randn(2, 5, 4), torch.randn(2, 5, 4), torch.ones(2, 5, 1))


def test_same_values_and_gradients_as_the_elementwise_formula():
    torch.manual_seed(0)
    pred = torch.randn(4, 20, 48, requires_grad=True)
    target, mask = torch.randn(4, 20, 48), random_mask(4, 20, 14)
    loss = MaskedMSELoss(loss_weight=0.7)(pred, target, mask)
    (grad, ) = torch.autograd.grad(loss, pred)
    ref = 0.7 * ((pred - target).pow(2).mean(dim=-1) * mask).sum() / mask.sum()
    (ref_grad, ) = torch.autograd.grad(ref, pred)
    torch.testing.assert_close(loss, ref, rtol=1e-6, atol=0)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-6, atol=1e-9)
