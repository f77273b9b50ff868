"""Fine-tuning recipe details (App. B.3 / the MAE-AudioMAE pipeline it cites): MAE's
global-pool head (fc_norm instead of the encoder's final norm), label smoothing before mixup,
and mixup commuting with AudioNormalize (so the batch mixup acts in AudioMAE's domain)."""
import pytest
import torch
import torch.nn.functional as F

from mavil.datasets.transforms import AudioNormalize
from mavil.models.mixup import BatchMixup
from tests.models.helpers import batch, classifier, samples


def test_head_pools_blocks_output_then_fc_norm():
    """MAE models_vit(global_pool=True): mean of the last block's patch tokens (no encoder
    norm) -> fc_norm -> linear; computed here by hand from the encoder's parts."""
    torch.manual_seed(0)
    model = classifier(('audio', )).eval()
    enc, head = model.audio_encoder, model.head
    assert isinstance(enc.norm, torch.nn.Identity)
    x = batch()['audio']
    with torch.no_grad():
        tokens = enc.patch_embed(x) + enc.pos_embed[:, 1:]
        seq = torch.cat([(enc.cls_token + enc.pos_embed[:, :1]).expand(3, -1, -1), tokens], 1)
        for block in enc.blocks:
            seq = block(seq)
        pooled = seq[:, 1:].mean(dim=1)
        expected = head.fc(F.layer_norm(pooled, (pooled.shape[-1], ), head.norm.weight,
                                        head.norm.bias, eps=1e-6))
        torch.testing.assert_close(model({'audio': x}, mode='tensor'), expected)
    kept = classifier(('audio', ), encoder_norm=True)
    assert isinstance(kept.audio_encoder.norm, torch.nn.LayerNorm)


def test_label_smoothing_before_the_loss():
    torch.manual_seed(0)
    model = classifier(('audio', ), label_smoothing=0.1)
    inputs = batch(n=2)
    labels = samples([[0], [3]])
    torch.manual_seed(1)
    loss = model.loss(dict(inputs), labels)['loss_cls']
    targets = torch.full((2, 5), 0.1 / 5)
    targets[0, 0] += 0.9
    targets[1, 3] += 0.9
    torch.manual_seed(1)  # the same fine-tuning masks
    logits = model.head(model.extract_feat({'audio': inputs['audio']}, masked=True))
    torch.testing.assert_close(loss, F.binary_cross_entropy_with_logits(logits, targets))


def test_batch_mixup_commutes_with_audio_normalisation():
    """Mixing normalised fbanks = normalising the mixed log-mel fbanks (affine map)."""
    torch.manual_seed(0)
    norm = AudioNormalize(mean=-4.268, std=4.569)
    logmel = torch.randn(4, 1, 16, 8) * 3 - 4
    targets = torch.eye(4)
    torch.manual_seed(2)
    mixed_after, _ = BatchMixup(alpha=0.5)({'audio': norm({'audio': logmel})['audio']}, targets)
    torch.manual_seed(2)
    mixed_before, _ = BatchMixup(alpha=0.5)({'audio': logmel}, targets)
    torch.testing.assert_close(mixed_after['audio'], norm({'audio': mixed_before['audio']})['audio'])


def test_head_bias_prior_starts_sigmoid_scores_at_the_class_prior():
    """bias_init='prior': sigmoid(bias) = 1 / C for every class, so the first BCE gradient
    has no push shared by all logits; 'zero' (MAE) stays the default."""
    from mavil.models.heads import ClsHead

    head = ClsHead(num_classes=8, in_dim=16, bias_init='prior')
    torch.testing.assert_close(head.fc.bias.sigmoid(), torch.full((8, ), 1 / 8))
    features = torch.randn(64, 16)
    targets = F.one_hot(torch.arange(64) % 8, 8).float()
    logits = head(features).detach().requires_grad_()
    F.binary_cross_entropy_with_logits(logits, targets).backward()
    # d loss / d logit summed over the batch: ~0 per class at the prior (the weights are tiny)
    assert logits.grad.sum(0).abs().max() < 1e-3
    assert ClsHead(num_classes=8, in_dim=16).fc.bias.abs().max() == 0
    with pytest.raises(ValueError, match='bias_init'):
        ClsHead(num_classes=8, in_dim=16, bias_init='uniform')


def test_head_batch_norm_removes_what_all_clips_share():
    """norm='batch' (MAE's linear-probe head): while training, the logits do not change when
    one vector is added to every clip's features, and the statistics it keeps make testing
    agree with a hand-written (x - running mean) / sqrt(running var + eps); LayerNorm (the
    default) is not invariant to such a shift."""
    from mavil.models.heads import ClsHead

    torch.manual_seed(0)
    features, shared = torch.randn(32, 16), 50 * torch.randn(16)
    head = ClsHead(num_classes=8, in_dim=16, norm='batch', init_std=0.1).train()
    torch.testing.assert_close(head(features + shared), head(features), atol=1e-4, rtol=1e-4)
    layer = ClsHead(num_classes=8, in_dim=16, init_std=0.1).train()
    assert (layer(features + shared) - layer(features)).abs().max() > 0.1
    head.eval()
    bn = head.norm
    expected = head.fc((features - bn.running_mean) / (bn.running_var + bn.eps).sqrt())
    torch.testing.assert_close(head(features), expected)
    with pytest.raises(ValueError, match='norm'):
        ClsHead(num_classes=8, in_dim=16, norm='group')
