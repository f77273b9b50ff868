"""Reconstruction figures (Fig. 3): arrays checked against the inputs and a hand-run model."""
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

from mavil.apis import init_model
from mavil.models.layers import MaskInfo
from mavil.structures import AVDataSample
from mavil.visualization import (display_arrays, plot_reconstruction, reconstruct,
                                 visualize_reconstruction)

matplotlib.use('Agg')
REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'tests/fixtures/configs/tiny_infer.py'
TINY_STAGE2 = REPO / 'tests/fixtures/configs/tiny_stage2.py'


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_model(str(TINY))


@pytest.fixture
def sample():
    g = torch.Generator().manual_seed(1)
    return {'inputs': {'audio': torch.randn(1, 64, 32, generator=g),
                       'video': torch.randint(0, 256, (3, 4, 32, 32), generator=g,
                                              dtype=torch.uint8)},
            'data_samples': AVDataSample()}


def hand_unpatchify(patches: torch.Tensor, grid, patch, channels) -> torch.Tensor:
    """Reference loop: token n at row-major grid index -> its block, values (patch..., C)."""
    out = torch.zeros(channels, *[g * p for g, p in zip(grid, patch)])
    for n, idx in enumerate(np.ndindex(*grid)):
        block = patches[n].reshape(*patch, channels).movedim(-1, 0)
        where = (slice(None), ) + tuple(slice(i * p, (i + 1) * p) for i, p in zip(idx, patch))
        out[where] = block
    return out


def expected_inputs(model, sample):
    audio = sample['inputs']['audio'].float()
    pre = model.data_preprocessor
    mean = pre.rgb_mean.view(3, 1, 1, 1)
    std = pre.rgb_std.view(3, 1, 1, 1)
    video = (sample['inputs']['video'].float() - mean) / std
    return {'audio': audio, 'video': video}


def test_visible_patches_equal_input(model, sample):
    recs = reconstruct(model, sample, seed=3)
    inputs = expected_inputs(model, sample)
    for m, rec in recs.items():
        x = inputs[m].numpy()
        np.testing.assert_array_equal(rec.original, x)
        visible = ~rec.pixel_mask
        np.testing.assert_array_equal(rec.reconstruction[:, visible], x[:, visible])
        np.testing.assert_array_equal(rec.masked[:, visible], x[:, visible])
        assert np.isnan(rec.masked[:, rec.pixel_mask]).all()
        # masked pixels show the prediction, not the input
        np.testing.assert_array_equal(rec.reconstruction[:, rec.pixel_mask],
                                      rec.prediction[:, rec.pixel_mask])
        encoder = model.encoders[m]
        kept = int(encoder.num_patches * (1 - encoder.mask_ratio))
        assert int((rec.token_mask == 0).sum()) == kept
        assert rec.pixel_mask.mean() == pytest.approx(rec.token_mask.mean())


def test_prediction_matches_hand_run_model(model, sample):
    """Rebuild the masks from the returned token masks (kept tokens in index order) and run
    encoders -> fusion -> decoders by hand; unpatchify with a reference loop."""
    recs = reconstruct(model, sample, seed=5)
    inputs = {m: x[None] for m, x in expected_inputs(model, sample).items()}
    encoded, masks = {}, {}
    with torch.no_grad():
        for m in ('audio', 'video'):
            token_mask = torch.from_numpy(recs[m].token_mask)[None]
            ids_keep = torch.nonzero(token_mask[0] == 0)[:, 0][None]
            ids_hidden = torch.nonzero(token_mask[0] == 1)[:, 0][None]
            ids_restore = torch.cat([ids_keep, ids_hidden], 1).argsort(1)
            masks[m] = MaskInfo(ids_keep, ids_restore, token_mask)
            enc = model.encoders[m]
            encoded[m] = enc.encode(enc.embed(inputs[m]), masks[m])
        a, v = model.fuse(encoded['audio'], encoded['video'])
        preds = {'audio': model.audio_decoder(a, masks['audio'])[0],
                 'video': model.video_decoder(v, masks['video'])[0]}
    for m, pred in preds.items():
        enc = model.encoders[m]
        expected = hand_unpatchify(pred, enc.grid_size, enc.patch_embed.patch_size,
                                   inputs[m].shape[1])
        np.testing.assert_allclose(recs[m].prediction, expected.numpy(), atol=1e-5)


def test_seed_is_deterministic(model, sample):
    a = reconstruct(model, sample, seed=7)
    b = reconstruct(model, sample, seed=7)
    c = reconstruct(model, sample, seed=8)
    for m in a:
        np.testing.assert_array_equal(a[m].token_mask, b[m].token_mask)
        np.testing.assert_array_equal(a[m].reconstruction, b[m].reconstruction)
    assert any((a[m].token_mask != c[m].token_mask).any() for m in a)


def test_batch_input_and_index(model, sample):
    other = {'audio': torch.zeros(1, 64, 32), 'video': torch.zeros(3, 4, 32, 32)}
    batch = {'inputs': {m: [other[m], sample['inputs'][m]] for m in other},
             'data_samples': [AVDataSample(), AVDataSample()]}
    from_batch = reconstruct(model, batch, seed=2, index=1)
    single = reconstruct(model, sample, seed=2)
    for m in single:
        np.testing.assert_allclose(from_batch[m].reconstruction, single[m].reconstruction,
                                   atol=1e-5)


def test_per_patch_norm_denormalised_with_visible_statistics(sample):
    torch.manual_seed(0)
    model = init_model(str(TINY), cfg_options={'model.target.norm_per_patch': True})
    recs = reconstruct(model, sample, seed=4, denorm='none')
    denormed = reconstruct(model, sample, seed=4)  # 'visible'
    oracle = reconstruct(model, sample, seed=4, denorm='oracle')
    for m in recs:
        p = model.encoders[m].patch_embed.patch_size
        x, mask = recs[m].original, recs[m].pixel_mask
        # reference: loop over visible patches of the input
        grid = model.encoders[m].grid_size
        means, stds = [], []
        patch_means, patch_stds = {}, {}
        for n, idx in enumerate(np.ndindex(*tuple(grid))):
            where = (slice(None), ) + tuple(slice(i * s, (i + 1) * s) for i, s in zip(idx, p))
            block = x[where].astype(np.float64)
            mu, sd = block.mean(), np.sqrt(block.var(ddof=1) + 1e-6)
            patch_means[idx], patch_stds[idx] = mu, sd
            if recs[m].token_mask[n] == 0:
                means.append(mu)
                stds.append(sd)
        expected = recs[m].prediction * np.mean(stds) + np.mean(means)
        np.testing.assert_allclose(denormed[m].prediction, expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(denormed[m].reconstruction[:, ~mask], x[:, ~mask])
        idx = next(iter(patch_means))  # oracle: the patch's own statistics
        where = (slice(None), ) + tuple(slice(i * s, (i + 1) * s) for i, s in zip(idx, p))
        np.testing.assert_allclose(oracle[m].prediction[where],
                                   recs[m].prediction[where] * patch_stds[idx]
                                   + patch_means[idx], rtol=1e-4, atol=1e-4)


def test_figure_shows_the_arrays(model, sample, tmp_path):
    out = tmp_path / 'fig.png'
    fig, recs = visualize_reconstruction(model, sample, seed=3, out_file=str(out))
    pre = model.data_preprocessor
    shown = display_arrays(recs, rgb_mean=pre.rgb_mean.flatten().tolist(),
                           rgb_std=pre.rgb_std.flatten().tolist())
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    frames = recs['video'].original.shape[1]
    assert len(images) == 3 + 3 * frames
    for row in range(3):
        np.testing.assert_array_equal(np.ma.filled(images[row], np.nan), shown['audio'][row])
        for t in range(frames):
            np.testing.assert_array_equal(images[3 + row * frames + t], shown['video'][row][t])
    # displayed visible pixels of the reconstruction row equal the displayed input
    visible = ~recs['video'].pixel_mask  # [T, H, W]
    np.testing.assert_array_equal(shown['video'][2][visible], shown['video'][0][visible])
    assert out.stat().st_size > 10_000
    matplotlib.pyplot.close(fig)


def test_teacher_target_model_refused(sample):
    class Fake(torch.nn.Module):
        target = torch.nn.Identity()
    with pytest.raises(TypeError, match='teacher tokens'):
        reconstruct(Fake(), sample)


def test_tool_on_a_video_file(model, tmp_path):
    from tests.datasets.media import write_clip
    from tools.visualize_reconstruction import main

    clip = write_clip(tmp_path / 'clip.mp4', seconds=1.5, fps=8.0, size=(40, 48))
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = tmp_path / 'fig.png'
    main([str(TINY), str(ckpt), str(clip), '--out', str(out), '--seed', '1'])
    assert out.stat().st_size > 10_000
    with pytest.raises(SystemExit, match='TeacherTargets'):
        main([str(TINY_STAGE2), str(ckpt), str(clip), '--out', str(tmp_path / 'x.png')])
