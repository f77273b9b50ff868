"""projects/example_plugin: a third-party fusion neck registered through custom_imports."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mavil.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / 'projects' / 'example_plugin'
PLUGIN_CONFIGS = PLUGIN_DIR / 'configs'


@pytest.fixture
def plugin(monkeypatch):
    """The plugin package, importable as a user would have it (PYTHONPATH)."""
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    import example_plugin
    return example_plugin


def env_with_plugin(on_path: bool) -> dict[str, str]:
    env = dict(os.environ)
    paths = [p for p in env.get('PYTHONPATH', '').split(os.pathsep)
             if p and Path(p).resolve() != PLUGIN_DIR]
    env['PYTHONPATH'] = os.pathsep.join(([str(PLUGIN_DIR)] if on_path else []) + paths)
    return env


def test_registered_into_mavil_models(plugin):
    assert MODELS.get('GatedCrossFusion') is plugin.GatedCrossFusion
    assert MODELS.get('mavil.GatedCrossFusion') is plugin.GatedCrossFusion


def test_gated_fusion_is_identity_at_init_then_fuses(plugin):
    torch.manual_seed(0)
    audio, video = torch.randn(2, 5, 32), torch.randn(2, 7, 32)
    fusion = MODELS.build(dict(type='GatedCrossFusion', embed_dim=32, depth=2, num_heads=4))
    assert fusion.embed_dim == 32
    a_out, v_out = fusion(audio, video)
    assert torch.equal(a_out, audio) and torch.equal(v_out, video)  # gates tanh(0) = 0

    a_out, v_out = fusion(audio, video)
    (a_out.square().mean() + v_out.square().mean()).backward()
    assert all(block.gate_attn.grad.abs().item() > 0
               for block in [*fusion.audio_blocks, *fusion.video_blocks])

    fusion = plugin.GatedCrossFusion(embed_dim=32, depth=1, num_heads=4, gate_init=0.5)
    a_out, v_out = fusion(audio, video)
    assert a_out.shape == audio.shape and v_out.shape == video.shape
    video2 = torch.randn_like(video)
    a_out2, _ = fusion(audio, video2)
    assert not torch.allclose(a_out, a_out2)  # audio now depends on video


def test_cross_attention_backends_agree(plugin):
    torch.manual_seed(0)
    x, context = torch.randn(2, 5, 32), torch.randn(2, 9, 32)
    sdpa = plugin.CrossAttention(32, 4, backend='sdpa')
    math_ = plugin.CrossAttention(32, 4, backend='math')
    math_.load_state_dict(sdpa.state_dict())
    torch.testing.assert_close(sdpa(x, context), math_(x, context), rtol=1e-5, atol=1e-5)


def test_vit_b_config_replaces_fusion(plugin):
    cfg = Config.fromfile(PLUGIN_CONFIGS / 'gated_fusion_stage1.py')
    # _delete_=True: no keys inherited from the base's JointFusion dict
    assert cfg.model.fusion.to_dict() == dict(
        type='GatedCrossFusion', depth=2, num_heads=12)  # embed_dim: the encoders'
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys['.gate_'] == dict(decay_mult=0.0)
    assert 'bottlenecks' in cfg.optim_wrapper.paramwise_cfg.custom_keys  # merged, not replaced


def test_train_with_plugin_through_tools_train(tmp_path):
    """Two optimizer steps via tools/train.py in a fresh process, plugin found on PYTHONPATH."""
    cmd = [sys.executable, 'tools/train.py', str(PLUGIN_CONFIGS / 'tiny_gated_fusion.py'),
           '--work-dir', str(tmp_path), '--cfg-options', 'train_cfg.max_iters=2',
           'default_hooks.logger.interval=1']
    proc = subprocess.run(cmd, cwd=ROOT, env=env_with_plugin(True), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    dumped = (tmp_path / 'tiny_gated_fusion.py').read_text()
    assert "type='GatedCrossFusion'" in dumped and 'example_plugin' in dumped

    # The plugin's module was built, optimized and saved: its gates left their 0 init.
    state = torch.load(tmp_path / 'iter_2.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    gates = {k: v for k, v in state.items() if k.startswith('fusion.') and '.gate_' in k}
    assert len(gates) == 4, sorted(state)  # 1 layer x 2 modalities x (attn, mlp)
    assert all(v.abs().item() > 0 for v in gates.values()), gates

    (scalars, ) = tmp_path.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), records


def test_missing_plugin_fails_at_config_load():
    """allow_failed_imports=False: a missing PYTHONPATH fails at once, naming the package."""
    code = ('from mmengine.config import Config; '
            f'Config.fromfile({str(PLUGIN_CONFIGS / "tiny_gated_fusion.py")!r})')
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env_with_plugin(False),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "No module named 'example_plugin'" in proc.stderr, proc.stderr[-2000:]
