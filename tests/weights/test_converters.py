"""Imported weights compute what the source architecture computes.

Synthetic state dicts use the sources' exact key names (AudioMAE ``models_mae`` /
``models_vit``, av-superb ``models_vitmm``) with shapes of a tiny configuration of the same
architecture. The reference forwards are written here from the public architectures'
equations (timm pre-norm blocks, conv patch embedding as a matmul over unfolded patches,
mean pooling, fc_norm, head) and use each source's OWN position-table formula, independently
of mavil.pos_embed.
"""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mavil.apis import init_model
from mavil.weights.converters import (convert_audiomae, convert_avsuperb_mavil,
                                      detect_pos_layout)

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / 'tests/fixtures/configs'
D, HEADS, DEPTH, C = 64, 4, 2, 8  # tiny configs: embed 64, 4 heads, depth 2, 8 classes
AUDIO_IN, AUDIO_P = (64, 32), 8  # fbank 64 x 32, 8x8 patches -> grid (8, 4)
VIDEO_IN, VIDEO_P = (4, 32, 32), (2, 8, 8)  # -> grid (2, 4, 4)


# ------------------------------------------------------------------ the sources' formulas
def sincos_1d_np(dim, pos):
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    out = np.einsum('m,d->md', pos.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def mae_2d_np(dim, grid_hw):
    """MAE / AudioMAE get_2d_sincos_pos_embed(_flexible): meshgrid(w, h); first half codes the
    first meshgrid output (w), second half h; rows in row-major (h, w) order."""
    gh, gw = np.arange(grid_hw[0], dtype=np.float32), np.arange(grid_hw[1], dtype=np.float32)
    first, second = np.meshgrid(gw, gh)
    return np.concatenate([sincos_1d_np(dim // 2, first), sincos_1d_np(dim // 2, second)], 1)


def with_cls(table):
    return torch.from_numpy(np.concatenate([np.zeros((1, table.shape[1])), table])).float()[None]


def audiomae_pos():
    """AudioMAE: PatchEmbed_org.patch_hw = (F // p, T // p), table on that grid."""
    return with_cls(mae_2d_np(D, (AUDIO_IN[1] // AUDIO_P, AUDIO_IN[0] // AUDIO_P)))


def avsuperb_video_pos():
    """av-superb get_3d_sincos_pos_embed: [temporal D/4 | spatial 2D table on 3D/4]."""
    t, s = VIDEO_IN[0] // VIDEO_P[0], VIDEO_IN[1] // VIDEO_P[1]
    spatial = mae_2d_np(D // 4 * 3, (s, s))  # [s*s, 3D/4]
    temporal = sincos_1d_np(D // 4, np.arange(t, dtype=np.float32))  # [t, D/4]
    table = np.concatenate([np.repeat(temporal[:, None], s * s, 1),
                            np.repeat(spatial[None], t, 0)], -1).reshape(-1, D)
    return with_cls(table)


# --------------------------------------------------------------------- synthetic weights
def rand(*shape, scale=0.05):
    return torch.randn(*shape) * scale


def timm_blocks(prefix, depth, dim=D):
    out = {}
    for i in range(depth):
        p = f'{prefix}{i}.'
        out.update({p + 'norm1.weight': 1 + rand(dim), p + 'norm1.bias': rand(dim),
                    p + 'attn.qkv.weight': rand(3 * dim, dim, scale=0.2),
                    p + 'attn.qkv.bias': rand(3 * dim),
                    p + 'attn.proj.weight': rand(dim, dim, scale=0.2),
                    p + 'attn.proj.bias': rand(dim),
                    p + 'norm2.weight': 1 + rand(dim), p + 'norm2.bias': rand(dim),
                    p + 'mlp.fc1.weight': rand(4 * dim, dim, scale=0.2),
                    p + 'mlp.fc1.bias': rand(4 * dim),
                    p + 'mlp.fc2.weight': rand(dim, 4 * dim, scale=0.2),
                    p + 'mlp.fc2.bias': rand(dim)})
    return out


def audio_stem(suffix=''):
    return {f'patch_embed{suffix}.proj.weight': rand(D, 1, AUDIO_P, AUDIO_P, scale=0.3),
            f'patch_embed{suffix}.proj.bias': rand(D), f'cls_token{suffix}': rand(1, 1, D, scale=1)}


def video_stem():
    return {'patch_embed_v.proj.weight': rand(D, 3, *VIDEO_P, scale=0.1),
            'patch_embed_v.proj.bias': rand(D), 'cls_token_v': rand(1, 1, D, scale=1)}


# ------------------------------------------------------------------- reference forwards
def ln(x, w, b):
    return F.layer_norm(x, (x.shape[-1], ), w, b, eps=1e-6)


def ref_block(x, s, p):
    B, L, _ = x.shape
    h = ln(x, s[p + 'norm1.weight'], s[p + 'norm1.bias'])
    qkv = (h @ s[p + 'attn.qkv.weight'].T + s[p + 'attn.qkv.bias']).view(B, L, 3, HEADS, -1)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    att = (q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5).softmax(-1)
    out = (att @ v).transpose(1, 2).reshape(B, L, -1)
    x = x + out @ s[p + 'attn.proj.weight'].T + s[p + 'attn.proj.bias']
    h = ln(x, s[p + 'norm2.weight'], s[p + 'norm2.bias'])
    h = F.gelu(h @ s[p + 'mlp.fc1.weight'].T + s[p + 'mlp.fc1.bias'])
    return x + h @ s[p + 'mlp.fc2.weight'].T + s[p + 'mlp.fc2.bias']


def ref_patches(x, patch):
    """Non-overlapping patches in row-major grid order, each flattened (C, *patch)."""
    B, Cin = x.shape[:2]
    for dim, p in enumerate(patch):
        x = x.unfold(2 + dim, p, p)  # [B, C, g0.., p0..]
    n = len(patch)
    x = x.permute(0, *range(2, 2 + n), 1, *range(2 + n, 2 + 2 * n))
    return x.reshape(B, -1, Cin * int(np.prod(patch)))


def ref_encoder(x, s, stem, patch, pos, blocks, depth):
    """ViT: conv patch embed (as matmul) + pos, [CLS] + pos[0], blocks; no final norm."""
    w = s[f'{stem}.proj.weight']
    tokens = ref_patches(x, patch) @ w.reshape(w.shape[0], -1).T + s[f'{stem}.proj.bias']
    tokens = tokens + pos[:, 1:]
    cls_key = 'cls_token' + ('_v' if stem.endswith('_v') else '')
    cls = (s[cls_key] + pos[:, :1]).expand(x.shape[0], -1, -1)
    h = torch.cat([cls, tokens], 1)
    for i in range(depth):
        h = ref_block(h, s, f'{blocks}{i}.')
    return h


def ref_audio_logits(x, s, norm, head):
    """An audio classifier with global pooling: encoder, mean over patch tokens, ``norm``
    (LayerNorm), linear ``head``."""
    h = ref_encoder(x, s, 'patch_embed', (AUDIO_P, AUDIO_P), audiomae_pos(), 'blocks.', DEPTH)
    pooled = ln(h[:, 1:].mean(1), s[f'{norm}.weight'], s[f'{norm}.bias'])
    return pooled @ s[f'{head}.weight'].T + s[f'{head}.bias']


# ------------------------------------------------------------------------------- tests
def test_audiomae_pretrained_into_mavil():
    torch.manual_seed(0)
    state = {**audio_stem(), **timm_blocks('blocks.', DEPTH), 'pos_embed': audiomae_pos(),
             'norm.weight': 1 + rand(D), 'norm.bias': rand(D), 'mask_token': rand(1, 1, 32),
             'decoder_embed.weight': rand(32, D), 'decoder_pos_embed': rand(1, 33, 32),
             'decoder_norm.weight': torch.ones(32), 'decoder_pred.weight': rand(64, 32)}
    conv = convert_audiomae(state, grid_size=(8, 4))
    assert conv.cfg_options == {'model.audio_encoder.pos_layout': 'audiomae'}
    assert {'mask_token', 'decoder_embed.weight', 'pos_embed'} <= set(conv.ignored)
    model = init_model(str(FIX / 'tiny_stage1.py'), cfg_options=conv.cfg_options)
    missing = model.load_state_dict(conv.state, strict=False).missing_keys
    assert not [k for k in missing if k.startswith('audio_encoder.')]
    x = torch.randn(2, 1, *AUDIO_IN)
    expected = ref_encoder(x, state, 'patch_embed', (AUDIO_P, AUDIO_P), audiomae_pos(),
                           'blocks.', DEPTH)
    expected = ln(expected, state['norm.weight'], state['norm.bias'])  # models_mae keeps norm
    with torch.no_grad():
        ours = model.audio_encoder(x, masked=False)[0]
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)
    # the same weights under our default table compute something else: the layout matters
    default = init_model(str(FIX / 'tiny_stage1.py'))
    default.load_state_dict(conv.state, strict=False)
    with torch.no_grad():
        assert (default.audio_encoder(x, masked=False)[0] - expected).abs().max() > 1e-2


def test_pos_table_matching_nothing_is_refused():
    with pytest.raises(RuntimeError, match='matches none'):
        detect_pos_layout(torch.randn(1, 33, D), (8, 4), ('mae', 'audiomae'), source='x')


def test_audiomae_finetuned_into_classifier():
    torch.manual_seed(1)
    state = {**audio_stem(), **timm_blocks('blocks.', DEPTH), 'pos_embed': audiomae_pos(),
             'fc_norm.weight': 1 + rand(D), 'fc_norm.bias': rand(D),
             'head.weight': rand(C, D, scale=0.3), 'head.bias': rand(C)}
    conv = convert_audiomae(state, grid_size=(8, 4))
    assert conv.cfg_options['model.encoder_norm'] is False
    model = init_model(str(FIX / 'tiny_ft_audio.py'), cfg_options=conv.cfg_options)
    model.load_state_dict(conv.state, strict=True)
    x = torch.randn(2, 1, *AUDIO_IN)
    expected = ref_audio_logits(x, state, 'fc_norm', 'head')
    with torch.no_grad():
        logits = model({'audio': x}, mode='tensor')
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)


def avsuperb_state(fusion_depth=3):
    state = {**audio_stem(), **timm_blocks('blocks.', DEPTH), 'pos_embed': audiomae_pos(),
             **video_stem(), **timm_blocks('blocks_v.', DEPTH),
             'pos_embed_v': avsuperb_video_pos()}
    if fusion_depth:
        state.update(timm_blocks('blocks_av.', fusion_depth))
        state.update({'fc_norm_av.weight': 1 + rand(2 * D), 'fc_norm_av.bias': rand(2 * D),
                      'head_av.weight': rand(C, 2 * D, scale=0.3), 'head_av.bias': rand(C)})
    else:
        for t in 'av':
            state.update({f'fc_norm_{t}.weight': 1 + rand(D), f'fc_norm_{t}.bias': rand(D),
                          f'head_{t}.weight': rand(C, D, scale=0.3), f'head_{t}.bias': rand(C)})
    return state


def test_avsuperb_mavil_av_fusion_into_classifier(tmp_path):
    torch.manual_seed(2)
    state = avsuperb_state(fusion_depth=3)
    conv = convert_avsuperb_mavil(state, audio_grid=(8, 4), video_grid=(2, 4, 4))
    assert conv.cfg_options['model.video_encoder.pos_layout'] == 'concat_t'
    assert conv.cfg_options['model.audio_encoder.pos_layout'] == 'audiomae'
    assert conv.cfg_options['model.fusion.depth'] == 3
    model = init_model(str(FIX / 'tiny_ft_av.py'), cfg_options=conv.cfg_options)
    model.load_state_dict(conv.state, strict=True)
    audio, video = torch.randn(2, 1, *AUDIO_IN), torch.randn(2, 3, *VIDEO_IN)
    # models_vitmm.forward_features_av with av_fusion=True, then head_av
    a = ref_encoder(audio, state, 'patch_embed', (AUDIO_P, AUDIO_P), audiomae_pos(), 'blocks.',
                    DEPTH)
    v = ref_encoder(video, state, 'patch_embed_v', VIDEO_P, avsuperb_video_pos(), 'blocks_v.',
                    DEPTH)
    xv = torch.cat([a, v], 1)
    for i in range(3):
        xv = ref_block(xv, state, f'blocks_av.{i}.')
    la = a.shape[1]
    pooled = torch.cat([xv[:, 1:la].mean(1), xv[:, la + 1:].mean(1)], 1)
    pooled = ln(pooled, state['fc_norm_av.weight'], state['fc_norm_av.bias'])
    expected = pooled @ state['head_av.weight'].T + state['head_av.bias']
    with torch.no_grad():
        logits = model({'audio': audio, 'video': video}, mode='tensor')
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)

    # safetensors round trip: config (pos layouts, fusion depth) travels in the metadata
    from mavil.weights.safetensors_io import export_safetensors, read_metadata
    path = str(tmp_path / 'mavil_av.safetensors')
    export_safetensors(model, path)
    assert 'concat_t' in read_metadata(path)['mavil_config_json']
    again = init_model(None, path)
    with torch.no_grad():
        torch.testing.assert_close(again({'audio': audio, 'video': video}, mode='tensor'),
                                   expected, rtol=1e-4, atol=1e-4)


def test_avsuperb_per_modality_heads():
    torch.manual_seed(3)
    state = avsuperb_state(fusion_depth=0)
    with pytest.raises(ValueError, match='no A\\+V fusion'):
        convert_avsuperb_mavil(state, audio_grid=(8, 4), video_grid=(2, 4, 4))
    conv = convert_avsuperb_mavil(state, modalities=('audio', ), audio_grid=(8, 4))
    model = init_model(str(FIX / 'tiny_ft_audio.py'), cfg_options=conv.cfg_options)
    model.load_state_dict(conv.state, strict=True)
    audio = torch.randn(2, 1, *AUDIO_IN)
    expected = ref_audio_logits(audio, state, 'fc_norm_a', 'head_a')
    with torch.no_grad():
        torch.testing.assert_close(model({'audio': audio}, mode='tensor'), expected,
                                   rtol=1e-4, atol=1e-4)


def test_convert_tool_audiomae_and_export(tmp_path):
    """tools/convert_weights.py: AudioMAE .pth in -> .safetensors out -> init_model(None);
    export of one of our checkpoints with selected parts."""
    from tools.convert_weights import main
    torch.manual_seed(4)
    state = {**audio_stem(), **timm_blocks('blocks.', DEPTH), 'pos_embed': audiomae_pos(),
             'norm.weight': 1 + rand(D), 'norm.bias': rand(D)}
    src = tmp_path / 'audiomae.pth'
    torch.save({'model': state}, src)
    out = tmp_path / 'mavil_from_audiomae.safetensors'
    main(['audiomae', str(src), str(FIX / 'tiny_stage1.py'), '--out', str(out)])
    model = init_model(None, str(out))
    assert model.audio_encoder.pos_embed.shape[1] == 33
    x = torch.randn(1, 1, *AUDIO_IN)
    expected = ln(ref_encoder(x, state, 'patch_embed', (AUDIO_P, AUDIO_P), audiomae_pos(),
                              'blocks.', DEPTH), state['norm.weight'], state['norm.bias'])
    with torch.no_grad():
        torch.testing.assert_close(model.audio_encoder(x, masked=False)[0], expected,
                                   rtol=1e-4, atol=1e-4)
    ckpt = tmp_path / 'ours.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    enc = tmp_path / 'encoders.safetensors'
    main(['export', str(FIX / 'tiny_stage1.py'), str(ckpt), '--out', str(enc),
          '--cfg-options', 'model.audio_encoder.pos_layout=audiomae',
          '--parts', 'audio_encoder', 'video_encoder', 'fusion'])
    from mavil.weights.safetensors_io import load_safetensors, stored_parts
    assert stored_parts(str(enc)) == ['audio_encoder', 'fusion', 'video_encoder']
    assert not any(k.startswith('audio_decoder') for k in load_safetensors(str(enc)))
    partial = init_model(None, str(enc))  # decoders keep their init; encoders must match
    for k, v in partial.audio_encoder.state_dict().items():
        torch.testing.assert_close(v, model.audio_encoder.state_dict()[k])
    # pre-trained encoder into a classifier: its final norm gives way to the head's fc_norm
    clf, conv = main(['audiomae', str(src), str(FIX / 'tiny_ft_audio.py'), '--out',
                      str(tmp_path / 'clf.pth')])
    assert any('dropped' in n for n in conv.notes)
    torch.testing.assert_close(clf.audio_encoder.blocks[1].mlp.fc1.weight,
                               state['blocks.1.mlp.fc1.weight'])


def test_convert_tool_image_vit_into_video_encoder(tmp_path):
    """ImageNet MAE layout in (pos_embed = MAE's 2D table on the square grid): blocks copied,
    the 2D patch kernel repeated over the tubelet's t frames and divided by t."""
    from tools.convert_weights import main
    torch.manual_seed(5)
    side = VIDEO_IN[1] // VIDEO_P[1]
    state = {'patch_embed.proj.weight': rand(D, 3, 8, 8), 'patch_embed.proj.bias': rand(D),
             'cls_token': rand(1, 1, D), 'pos_embed': with_cls(mae_2d_np(D, (side, side))),
             **timm_blocks('blocks.', DEPTH), 'norm.weight': 1 + rand(D), 'norm.bias': rand(D)}
    src = tmp_path / 'mae.pth'
    torch.save({'model': state}, src)
    out = tmp_path / 'video.safetensors'
    main(['image-vit', str(src), str(FIX / 'tiny_stage1.py'), '--out', str(out)])
    enc = init_model(None, str(out)).video_encoder.state_dict()
    t = VIDEO_P[0]
    torch.testing.assert_close(enc['patch_embed.proj.weight'],
                               state['patch_embed.proj.weight'][:, :, None].repeat(1, 1, t, 1, 1)
                               / t)
    for key in ('blocks.1.attn.qkv.weight', 'blocks.0.mlp.fc2.bias', 'norm.weight', 'cls_token'):
        torch.testing.assert_close(enc[key], state[key])


def test_convert_weights_lists_what_does_not_fit_with_the_count_left_out(capsys):
    """tools/convert_weights.py: unknown keys and shape mismatches (first 10 of each), and
    the model tensors left at their initialisation (first 5), end with '... (N more)'."""
    from tools.convert_weights import load_converted
    model = torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(8)])
    own = model.state_dict()
    bad = {f'x{i:02d}': torch.zeros(1) for i in range(12)}
    bad.update({k: torch.zeros(3) for k in list(own)[:13]})
    with pytest.raises(RuntimeError) as info:
        load_converted(model, bad)
    message = str(info.value)
    assert 'x09, ... (2 more)]' in message and 'x10' not in message
    assert message.endswith('... (3 more)]') and message.count(' vs [') == 10
    load_converted(model, {'0.weight': own['0.weight']})
    printed = capsys.readouterr().out
    assert printed.startswith('loaded 1 tensors; 15 model tensors keep their initialisation')
    assert printed.rstrip().endswith('... (10 more))')
