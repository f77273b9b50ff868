"""What both demo data kinds share: determinism, and the scene (background, grey distractor)
and sound bed (noise, distractor tone) that :mod:`mavil.demo.render` draws for either."""
import math

import numpy as np
import pytest

from mavil.demo import categories, melody, render

KINDS = {'melody': (melody.DemoDataConfig, melody.draw_clip, render),
         'category': (categories.CategoryDataConfig, categories.draw_clip, categories)}


@pytest.mark.parametrize('kind', KINDS)
def test_draws_and_renders_depend_only_on_seed_and_index(kind):
    config, draw_clip, module = KINDS[kind]
    cfg = config(seed=5)
    assert draw_clip(7, cfg) == draw_clip(7, cfg)
    assert draw_clip(7, cfg) != draw_clip(7, config(seed=6))
    spec = draw_clip(7, cfg)
    np.testing.assert_array_equal(module.render_video(spec, cfg), module.render_video(spec, cfg))
    np.testing.assert_array_equal(module.render_audio(spec, cfg), module.render_audio(spec, cfg))
    other = draw_clip(15, cfg)  # same class, other clip
    assert not np.array_equal(module.render_audio(spec, cfg), module.render_audio(other, cfg))


def test_both_kinds_draw_the_same_scene_for_the_same_seed_and_index():
    """Clip i of either kind draws its background and distractor first from the same
    generator, so the frames agree wherever neither kind's object is drawn."""
    m_cfg, c_cfg = melody.DemoDataConfig(seed=4), categories.CategoryDataConfig(seed=4)
    m_spec, c_spec = melody.draw_clip(3, m_cfg), categories.draw_clip(3, c_cfg)
    m_video = render.render_video(m_spec, m_cfg)  # [T, H, W, 3]
    c_video = categories.render_video(c_spec, c_cfg)
    _, t, frames, yy, xx = render.scene(m_spec, m_cfg)
    x, y, visible = render.object_track(m_spec, t, m_cfg)
    cx, cy = categories.object_track(c_spec, t, c_cfg)
    m_shape = melody.CLASSES[m_spec.label].shape
    c_shape = c_spec.picture_pattern[0]
    for i in range(len(t)):
        clear = ~render._shape_mask(c_shape, yy, xx, cx[i], cy[i], c_spec.radius)
        if visible[i]:
            clear &= ~render._shape_mask(m_shape, yy, xx, x[i], y[i], m_spec.radius)
        assert clear.mean() > 0.5
        np.testing.assert_array_equal(m_video[i][clear], c_video[i][clear])
        scene_u8 = np.clip(frames[i], 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(m_video[i][clear], scene_u8[clear])


def test_sound_bed_is_noise_plus_the_distractor_tone():
    """Against the formula: noise from the clip's audio generator, plus 0.15 x a 0.4 s tone
    with 10 ms ramps at the drawn frequency and onset."""
    cfg = melody.DemoDataConfig(seed=2)
    spec = melody.draw_clip(5, cfg)
    _, t, wave = render.sound_bed(spec, cfg)
    assert t.shape == (int(round(cfg.duration * cfg.sample_rate)),)
    noise = np.random.default_rng((cfg.seed, spec.index, 2)).normal(0, spec.noise_std, t.shape)
    on, off = spec.distractor_onset, spec.distractor_onset + 0.4
    env = np.clip(np.minimum(t - on, off - t) / 0.01 + 0.5, 0, 1)
    tone = 0.15 * env * np.sin(2 * math.pi * spec.distractor_freq * t)
    np.testing.assert_allclose(wave, noise + tone, rtol=0, atol=1e-12)
    assert np.abs(tone[(t < on - 0.01) | (t > off + 0.01)]).max() == 0
