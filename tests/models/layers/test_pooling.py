"""Mean pooling and multi-clip videos against loops written here."""
import copy

import pytest
import torch

from mavil.models.layers import flatten_clips, full_view_embedding, mean_over_clips, mean_pool
from mavil.registry import MODELS
from tests.models.helpers import AUDIO, VIDEO, batch


def test_mean_pool_averages_the_patch_tokens_without_cls():
    tokens = torch.randn(2, 1 + 5, 3)
    want = torch.stack([sum(tokens[b, k] for k in range(1, 6)) / 5 for b in range(2)])
    torch.testing.assert_close(mean_pool(tokens), want)


def test_flatten_clips_keeps_each_videos_clips_in_a_row():
    video = torch.randn(2, 3, 3, 4, 8, 8)  # [B, N, 3, T, H, W]
    flat, num_clips = flatten_clips(video)
    assert num_clips == 3 and flat.shape == (6, 3, 4, 8, 8)
    torch.testing.assert_close(flat[1 * 3 + 2], video[1, 2])
    single = video[:, 0]
    assert flatten_clips(single) == (single, 1)
    with pytest.raises(ValueError, match=r'video must be .* got \[3, 4, 8, 8\]'):
        flatten_clips(single[0])


def test_mean_over_clips_is_the_mean_of_each_videos_clips():
    values = torch.randn(2 * 3, 4, 5)  # [B * N, ...]
    want = torch.stack([(values[b * 3] + values[b * 3 + 1] + values[b * 3 + 2]) / 3
                        for b in range(2)])
    torch.testing.assert_close(mean_over_clips(values, 3), want)


def test_full_view_embedding_of_a_multi_clip_video_averages_the_clips():
    encoder = MODELS.build(copy.deepcopy(VIDEO)).eval()
    video = batch(n=2, clips=3)['video']  # [2, 3, 3, 4, 32, 32]
    with torch.no_grad():
        emb, tokens = full_view_embedding(encoder, video, 'video')
        per_clip = [encoder(video[:, k], masked=False)[0] for k in range(3)]  # [B, 1 + L, D]
    assert tokens.shape == (2, 3, *per_clip[0].shape[1:])
    torch.testing.assert_close(tokens[:, 1], per_clip[1], rtol=1e-5, atol=1e-6)
    want = sum(t[:, 1:].mean(dim=1) for t in per_clip) / 3
    torch.testing.assert_close(emb, want, rtol=1e-5, atol=1e-6)


def test_full_view_embedding_of_single_inputs_is_the_pooled_tokens():
    inputs = batch(n=2)
    for modality, cfg in (('audio', AUDIO), ('video', VIDEO)):
        encoder = MODELS.build(copy.deepcopy(cfg)).eval()
        with torch.no_grad():
            emb, tokens = full_view_embedding(encoder, inputs[modality], modality)
            ref = encoder(inputs[modality], masked=False)[0]
        torch.testing.assert_close(tokens, ref)
        torch.testing.assert_close(emb, ref[:, 1:].mean(dim=1))
