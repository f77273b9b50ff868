"""``encode_views``: several masked views in one batched pass equal one ``encode`` per view,
and MAViL's intra-modal view is a second, different mask over the same patch embedding."""
import torch

from mavil.registry import MODELS


def test_encode_views_equals_encode_per_mask(tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg).train()
    for name, x in (('audio', torch.randn(3, 1, 64, 32)), ('video', torch.randn(3, 3, 4, 32, 32))):
        encoder = model.encoders[name]
        tokens = encoder.embed(x)  # [B, N, D]
        masks = [encoder.sample_mask(3, 'cpu') for _ in range(3)]
        views = encoder.encode_views(tokens, masks)
        assert len(views) == 3
        for view, mask in zip(views, masks):
            torch.testing.assert_close(view, encoder.encode(tokens, mask), rtol=1e-5, atol=1e-5)
        # gradients flow to the shared tokens from every view
        sum(v.sum() for v in views).backward()
        assert encoder.cls_token.grad is not None


def test_intra_view_uses_a_second_mask_and_one_embedding(tiny_model_cfg, tiny_inputs):
    model = MODELS.build(tiny_model_cfg).train()
    embeds, view_masks = [], []
    for encoder in model.encoders.values():
        original_embed, original_views = encoder.embed, encoder.encode_views
        encoder.embed = lambda x, f=original_embed: embeds.append(1) or f(x)
        encoder.encode_views = (lambda t, masks, f=original_views:
                                view_masks.append(masks) or f(t, masks))
    model.loss(tiny_inputs)
    assert len(embeds) == 2  # one patch embedding per modality
    assert len(view_masks) == 2 and all(len(m) == 2 for m in view_masks)
    for first, second in view_masks:
        assert not torch.equal(first.ids_keep, second.ids_keep)
