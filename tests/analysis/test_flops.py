"""FLOP counting: the SDPA handle, backend agreement, the paper's 48.6 G, the CLI."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import nn

import mavil.models  # noqa: F401  (registers the components)
from mavil.analysis import count_component_flops, count_flops, significant_unsupported_ops
from mavil.analysis.op_handles import SDPA_OP
from mavil.models.layers import Attention, Block
from mavil.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
STAGE1 = REPO / 'configs' / 'mavil' / 'stage1.py'
TINY = REPO / 'tests' / 'fixtures' / 'configs' / 'tiny_stage1.py'
PAPER_AUDIO_GFLOPS = 48.6  # Sec. 4.2 / App. B.2
REL_TOL = 0.005


def build(config: Path, **model_overrides) -> nn.Module:
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict({f'model.{k}': v for k, v in model_overrides.items()})
    return MODELS.build(cfg.model)


def vit_encoder_flops(tokens: int, patches: int, patch_numel: int, dim: int, depth: int,
                      mlp_ratio: int = 4) -> int:
    """Hand count (1 multiply-add = 1 FLOP, LayerNorm 5 per element) of a pre-norm ViT."""
    qkv_proj = tokens * dim * 4 * dim
    attention = 2 * tokens * tokens * dim  # QK^T and AV summed over heads
    mlp = 2 * tokens * dim * mlp_ratio * dim
    norms = 2 * 5 * tokens * dim
    return patches * patch_numel * dim + depth * (qkv_proj + attention + mlp + norms) \
        + 5 * tokens * dim


class _SDPA(nn.Module):

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


@pytest.fixture(scope='module')
def tiny_model() -> nn.Module:
    return build(TINY)


@pytest.fixture(scope='module')
def vit_b_model() -> nn.Module:
    return build(STAGE1)


# (a) the SDPA handle --------------------------------------------------------------------------
def test_sdpa_handle_matches_hand_formula():
    # cross-attention shapes: L != S, d != dv
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    count = count_flops(_SDPA(), (q, k, v))
    assert count.flops == 2 * 3 * 5 * 7 * (8 + 4)
    assert not count.unsupported_ops


def test_attention_layer_counts_projections_and_attention():
    B, L, D, heads = 2, 10, 32, 4
    count = count_flops(Attention(D, heads, backend='sdpa'), (torch.randn(B, L, D), ))
    qkv, proj = B * L * D * 3 * D, B * L * D * D
    attention = B * heads * L * L * (D // heads) * 2
    assert count.flops == qkv + proj + attention


def test_without_handle_fvcore_drops_attention_and_we_flag_it():
    q = torch.randn(1, 2, 6, 8)
    raw = count_flops(_SDPA(), (q, q, q), handles={})  # fvcore's own handles only
    assert raw.flops == 0
    assert SDPA_OP in significant_unsupported_ops(raw.unsupported_ops)


# (b) sdpa and math backends agree ----------------------------------------------------------
def test_sdpa_and_math_backends_count_the_same():
    x = torch.randn(2, 17, 64)
    counts = {b: count_flops(Block(64, 4, attn_backend=b).eval(), (x, ))
              for b in ('sdpa', 'math')}
    assert counts['sdpa'].flops == counts['math'].flops
    for count in counts.values():  # only element-wise ops (softmax, gelu, ...) go uncounted
        assert not significant_unsupported_ops(count.unsupported_ops), count.unsupported_ops


def test_backends_agree_on_a_whole_model():
    sdpa = count_component_flops(build(TINY))
    math = count_component_flops(build(TINY, **{
        f'{c}.attn_backend': 'math'
        for c in ('audio_encoder', 'video_encoder', 'fusion', 'audio_decoder', 'video_decoder')
    }))
    assert [r['gflops'] for r in sdpa] == [r['gflops'] for r in math]


# (c) ViT-B audio encoder: the paper's 48.6 GFLOPs ------------------------------------------
def test_vit_b_audio_encoder_matches_paper(vit_b_model):
    full, masked = count_component_flops(vit_b_model, ['audio_encoder'])
    # 512 patches + [CLS]; patch embedding and final norm included
    assert full['gflops'] == vit_encoder_flops(513, 512, 256, 768, 12) / 1e9
    assert full['gflops'] == pytest.approx(PAPER_AUDIO_GFLOPS, rel=REL_TOL)
    # masked: patch-embed all 512 patches, blocks on 1 + int(512 * 0.2) = 103 tokens
    assert (full['input_tokens'], masked['input_tokens']) == (513, 103)
    assert masked['gflops'] == vit_encoder_flops(103, 512, 256, 768, 12) / 1e9
    assert full['params_m'] == pytest.approx(85.25, abs=0.01)


# views and records on the tiny model -------------------------------------------------------
def test_all_components_and_views(tiny_model):
    tiny_model.train()
    records = count_component_flops(tiny_model)
    assert tiny_model.training and tiny_model.audio_encoder.blocks[0].training  # restored
    assert [(r['component'], r['view']) for r in records] == [
        (c, v) for c in ('audio_encoder', 'video_encoder', 'fusion', 'audio_decoder',
                         'video_decoder') for v in ('full', 'masked')]
    for r in records:
        assert r['gflops'] > 0 and r['params_m'] > 0
        assert not significant_unsupported_ops(r['unsupported_ops']), r
    by_key = {(r['component'], r['view']): r for r in records}
    enc = tiny_model.audio_encoder  # 8x4 grid = 32 patches, keeps int(32 * 0.2) = 6
    assert by_key['fusion', 'masked']['input_tokens'] == (1 + 6) + (1 + int(32 * 0.2))
    # decoders: the views differ only in the input projection of the N - K dropped tokens
    dec = tiny_model.audio_decoder
    diff = by_key['audio_decoder', 'full']['gflops'] - by_key['audio_decoder', 'masked']['gflops']
    expected = (enc.num_patches - 6) * dec.in_dim * dec.embed.out_features / 1e9
    assert diff == pytest.approx(expected, rel=1e-9)


def test_without_fusion_and_component_filter():
    model = build(TINY, fusion=None)
    assert 'fusion' not in {r['component'] for r in count_component_flops(model)}
    records = count_component_flops(model, ['video_decoder'], ['masked'])
    assert [(r['component'], r['view']) for r in records] == [('video_decoder', 'masked')]
    with pytest.raises(ValueError, match='unknown'):
        count_component_flops(model, ['audio_decoer'])
    del model.video_encoder
    with pytest.raises(ValueError, match='needs the video encoder'):
        count_component_flops(model, ['video_decoder'])


# (d) the CLI ----------------------------------------------------------------------------------
def run_cli(*args: str) -> list[dict]:
    env = dict(os.environ, PYTHONPATH='', OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '2'))
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / 'flops.py'), *args, '--json'],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'warning' not in proc.stderr.lower(), proc.stderr[-3000:]
    records = json.loads(proc.stdout.strip().splitlines()[-1])
    assert isinstance(records, list)
    for r in records:
        assert set(r) == {'component', 'view', 'gflops', 'params_m'}
    return records


def test_cli_stage1_audio_encoder():
    records = run_cli(str(STAGE1), '--components', 'audio_encoder')
    by_view = {r['view']: r for r in records if r['component'] == 'audio_encoder'}
    assert set(by_view) == {'full', 'masked'}
    assert by_view['full']['gflops'] == pytest.approx(PAPER_AUDIO_GFLOPS, rel=REL_TOL)


def test_cli_all_components_with_cfg_options():
    records = run_cli(str(TINY), '--cfg-options', 'model.fusion.type=MBTFusion')
    assert len(records) == 10
