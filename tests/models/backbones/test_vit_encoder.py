"""The full-size stage-1 model (configs/mavil/stage1.py): parameter counts (App. B.2: 86M
encoders, ~27M decoders), decoder widths and kept-token counts (102 audio, 156 video)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mavil.registry import MODELS

STAGE1_CFG = Path(__file__).resolve().parents[3] / 'configs' / 'mavil' / 'stage1.py'


def linear(i: int, o: int) -> int:
    return i * o + o


def layer_norm(d: int) -> int:
    return 2 * d


def block(d: int, mlp_ratio: int = 4) -> int:
    """Pre-norm ViT block: LN, qkv, proj, LN, fc1, fc2."""
    return (2 * layer_norm(d) + linear(d, 3 * d) + linear(d, d) + linear(d, mlp_ratio * d)
            + linear(mlp_ratio * d, d))


def encoder(patch_elems: int, d: int = 768, depth: int = 12) -> int:
    """Patch conv (patch_elems inputs) + [CLS] + blocks + final LN (fixed positions)."""
    return linear(patch_elems, d) + d + depth * block(d) + layer_norm(d)


def decoder(out_dim: int, in_dim: int = 768, d: int = 512, depth: int = 8) -> int:
    """Projection + [MASK] + blocks + LN + linear head (fixed positions)."""
    return linear(in_dim, d) + d + depth * block(d) + layer_norm(d) + linear(d, out_dim)


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope='module')
def model():
    cfg = Config.fromfile(str(STAGE1_CFG))
    return MODELS.build(cfg.model).eval()


def test_encoder_parameter_counts(model):
    audio, video = count(model.audio_encoder), count(model.video_encoder)
    print(f'\naudio encoder {audio:,} params, video encoder {video:,} params')
    assert audio == pytest.approx(86e6, rel=0.02)
    assert video == pytest.approx(86e6, rel=0.02)
    assert audio == pytest.approx(encoder(16 * 16 * 1), rel=0.01)
    assert video == pytest.approx(encoder(2 * 16 * 16 * 3), rel=0.01)


def test_decoder_parameter_counts_and_widths(model):
    audio, video = count(model.audio_decoder), count(model.video_decoder)
    print(f'\naudio decoder {audio:,} params, video decoder {video:,} params, '
          f'fusion {count(model.fusion):,} params')
    # raw targets: out_dim = prod(patch) * channels
    assert model.audio_decoder.head.out_features == 16 * 16 * 1 == 256
    assert model.video_decoder.head.out_features == 2 * 16 * 16 * 3 == 1536
    assert audio == pytest.approx(decoder(256), rel=0.01)  # ~25.7M
    assert video == pytest.approx(decoder(1536), rel=0.01)  # ~26.4M
    assert audio == pytest.approx(25.7e6, rel=0.01) and video == pytest.approx(26.4e6, rel=0.01)
    assert count(model.fusion) == pytest.approx(2 * block(768) + layer_norm(768), rel=0.01)


def test_kept_tokens_and_output_shapes(model):
    assert model.audio_encoder.grid_size == (64, 8) and model.audio_encoder.num_patches == 512
    assert model.video_encoder.grid_size == (4, 14, 14) and model.video_encoder.num_patches == 784
    with torch.no_grad():
        a_um, a_mask = model.audio_encoder(torch.randn(1, 1, 1024, 128))
        v_um, v_mask = model.video_encoder(torch.randn(1, 3, 8, 224, 224))
        assert a_um.shape == (1, 1 + 102, 768) and a_mask.num_kept == 102
        assert v_um.shape == (1, 1 + 156, 768) and v_mask.num_kept == 156
        a_mm, v_mm = model.fuse(a_um, v_um)
        assert model.audio_decoder(a_mm, a_mask).shape == (1, 512, 256)
        assert model.video_decoder(v_mm, v_mask).shape == (1, 784, 1536)
