"""Bad configs fail when the model is built, with a message that says what is wrong."""
import pytest

from mavil.registry import MODELS


def build(cfg):
    return MODELS.build(cfg)


def test_tiny_config_builds(tiny_model_cfg):
    model = build(tiny_model_cfg)
    assert model.audio_decoder.in_dim == 64 and model.video_decoder.in_dim == 64
    assert model.audio_decoder.grid_size == (8, 4)
    assert model.video_decoder.grid_size == (2, 4, 4)


@pytest.mark.parametrize('key', ['fusion', 'audio_encoder', 'audio_decoder', 'target',
                                 'rec_loss', 'inter_loss'])
def test_unknown_component_type(tiny_model_cfg, key):
    tiny_model_cfg[key] = dict(type='NoSuchThing')
    with pytest.raises(KeyError) as err:
        build(tiny_model_cfg)
    message = str(err.value)
    assert 'NoSuchThing' in message
    assert '"mavil.model"' in message  # names the registry
    for known in ('AudioViT', 'VideoViT', 'JointFusion', 'MBTFusion', 'MaskedDecoder',
                  'RawTargets', 'MaskedMSELoss', 'InfoNCELoss'):
        assert known in message  # and lists what it knows


@pytest.mark.parametrize('encoder', ['audio_encoder', 'video_encoder'])
@pytest.mark.parametrize('ratio', [0.0, 1.0])
def test_mask_ratio_zero_or_one(tiny_model_cfg, encoder, ratio):
    tiny_model_cfg[encoder]['mask_ratio'] = ratio
    with pytest.raises(ValueError, match=r'mask_ratio must be in \(0, 1\)'):
        build(tiny_model_cfg)


def test_unsupported_mask_type(tiny_model_cfg):
    tiny_model_cfg['video_encoder']['mask_type'] = 'time_freq'
    with pytest.raises(ValueError, match="mask_type 'time_freq' not supported"):
        build(tiny_model_cfg)


@pytest.mark.parametrize('fusion_type', ['JointFusion', 'MBTFusion'])
def test_fusion_embed_dim_derived_from_encoders(tiny_model_cfg, fusion_type):
    tiny_model_cfg['fusion'] = dict(type=fusion_type, depth=1, num_heads=4)
    assert build(tiny_model_cfg).fusion.embed_dim == 64  # the encoders' width
    tiny_model_cfg['fusion']['embed_dim'] = 64  # an explicit value that agrees is fine
    assert build(tiny_model_cfg).fusion.embed_dim == 64


@pytest.mark.parametrize('fusion_type', ['JointFusion', 'MBTFusion'])
def test_fusion_embed_dim_mismatch(tiny_model_cfg, fusion_type):
    tiny_model_cfg['fusion'] = dict(type=fusion_type, embed_dim=32, depth=1, num_heads=4)
    with pytest.raises(ValueError, match="fusion embed_dim=32 differs from the encoders' "
                       'width 64.*leave embed_dim out'):
        build(tiny_model_cfg)
    tiny_model_cfg['fusion'] = MODELS.build(dict(type=fusion_type, embed_dim=32, depth=1,
                                                 num_heads=4))
    with pytest.raises(ValueError, match='given fusion neck has embed_dim=32'):
        build(tiny_model_cfg)


def test_encoder_embed_dims_differ_with_fusion(tiny_model_cfg):
    tiny_model_cfg['video_encoder']['arch'] = dict(embed_dim=32, depth=1, num_heads=4)
    tiny_model_cfg['inter_loss'] = None  # isolate the fusion check
    with pytest.raises(ValueError, match='one embedding size'):
        build(tiny_model_cfg)


def test_encoder_embed_dims_differ_with_inter_contrast(tiny_model_cfg):
    """Without fusion, inter-modal InfoNCE still compares audio and video embeddings."""
    tiny_model_cfg['fusion'] = None
    tiny_model_cfg['video_encoder']['arch'] = dict(embed_dim=32, depth=1, num_heads=4)
    with pytest.raises(ValueError, match='inter-modal contrast'):
        build(tiny_model_cfg)
    tiny_model_cfg['inter_loss'] = None  # uni-modal MAEs may differ in width
    model = build(tiny_model_cfg)
    assert model.video_decoder.in_dim == 32


def test_decoder_in_dim_mismatch(tiny_model_cfg):
    tiny_model_cfg['audio_decoder']['in_dim'] = 32
    with pytest.raises(ValueError, match='audio_decoder.in_dim=32'):
        build(tiny_model_cfg)


def test_decoder_grid_mismatch(tiny_model_cfg):
    tiny_model_cfg['video_decoder']['grid_size'] = (4, 4, 4)
    with pytest.raises(ValueError, match='video_decoder.grid_size'):
        build(tiny_model_cfg)


@pytest.mark.parametrize('encoder,patch', [('audio_encoder', (7, 8)),
                                           ('video_encoder', (3, 8, 8)),
                                           ('video_encoder', (8, 8))])
def test_patch_size_not_dividing_input(tiny_model_cfg, encoder, patch):
    tiny_model_cfg[encoder]['patch_size'] = patch
    with pytest.raises(ValueError, match='patch size'):
        build(tiny_model_cfg)


def test_unknown_arch_name(tiny_model_cfg):
    tiny_model_cfg['audio_encoder']['arch'] = 'huge'
    with pytest.raises(ValueError, match="unknown ViT arch 'huge'") as err:
        build(tiny_model_cfg)
    assert 'base' in str(err.value)  # lists the known names
    tiny_model_cfg['audio_encoder']['arch'] = dict(embed_dim=64, depth=1)
    with pytest.raises(ValueError, match='num_heads'):
        build(tiny_model_cfg)
