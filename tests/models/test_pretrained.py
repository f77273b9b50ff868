"""Initialisation: patch-embedding inflation, image ViT / MAViL checkpoints, bad checkpoints."""
import copy

import pytest
import torch
from timm.models.vision_transformer import VisionTransformer

import mavil.models  # noqa: F401
from mavil.models.backbones import VideoViT
from mavil.models.layers import PatchEmbed
from mavil.models.pretrained import inflate_patch_embed, load_pretrained
from mavil.registry import MODELS
from tests.models.helpers import AUDIO, TINY, classifier, mae_2d, tiny_mavil

def image_vit(mae_positions: bool = True) -> VisionTransformer:
    """A tiny timm ViT with MAE pre-training's layout (final ``norm``, token pooling); with
    ``mae_positions`` its pos_embed is MAE's fixed table (from the formula in
    tests/models/helpers.py), else timm's learned (random) one."""
    vit = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                            num_classes=10)
    if mae_positions:
        table = torch.from_numpy(mae_2d(64, 4, 4, cls_token=True)).float()[None]
        vit.pos_embed.data.copy_(table)
    return vit


@pytest.mark.parametrize('temporal', [1, 2, 4])
def test_inflated_embedding_of_identical_frames_equals_the_frame_embedding(temporal):
    torch.manual_seed(0)
    embed2d = PatchEmbed((32, 32), (8, 8), 3, 16)
    embed3d = PatchEmbed((8, 32, 32), (temporal, 8, 8), 3, 16)
    embed3d.proj.weight.data = inflate_patch_embed(embed2d.proj.weight.data, temporal)
    embed3d.proj.bias.data = embed2d.proj.bias.data.clone()
    frame = torch.randn(2, 3, 32, 32)
    video = frame[:, :, None].expand(-1, -1, 8, -1, -1)  # 8 identical frames
    tokens2d = embed2d(frame)  # [B, 16, D]
    tokens3d = embed3d(video).view(2, 8 // temporal, 16, 16)  # [B, T', 16 patches, D]
    for t in range(8 // temporal):
        torch.testing.assert_close(tokens3d[:, t], tokens2d, rtol=1e-5, atol=1e-5)


def test_image_vit_checkpoint_initialises_the_video_encoder(tmp_path):
    torch.manual_seed(0)
    vit = image_vit()
    path = tmp_path / 'mae_vit.pth'
    torch.save({'model': vit.state_dict()}, path)  # MAE's layout
    model = classifier(('video', ))
    report = load_pretrained(model, str(path))
    enc = model.video_encoder
    torch.testing.assert_close(enc.patch_embed.proj.weight,
                               inflate_patch_embed(vit.patch_embed.proj.weight.detach(), 2))
    torch.testing.assert_close(enc.blocks[1].mlp.fc2.weight, vit.blocks[1].mlp.fc2.weight)
    torch.testing.assert_close(enc.cls_token, vit.cls_token)
    assert 'video_encoder.blocks.0.attn.qkv.weight' in report.matched
    # MAE's global-pool head: the encoder's final norm is not used (fc_norm = head.norm)
    assert {'pos_embed', 'head.weight', 'head.bias', 'norm.weight', 'norm.bias'} == set(
        report.unexpected)
    assert all(k.startswith('head.') for k in report.missing)
    assert any('inflated patch_embed.proj.weight' in n for n in report.notes)
    assert any('equals our fixed sin-cos table' in n for n in report.notes)


def test_image_vit_init_cfg_for_pretraining(tmp_path):
    torch.manual_seed(0)
    vit = image_vit(mae_positions=False)
    path = tmp_path / 'timm_vit.pth'
    torch.save(vit.state_dict(), path)
    init_cfg = dict(type='ImageViTInflateInit', checkpoint=str(path))
    encoder = VideoViT(arch=TINY, input_size=(4, 32, 32), patch_size=(2, 8, 8),
                       init_cfg=init_cfg)
    with pytest.raises(RuntimeError, match=r"timm_vit.pth.*pos_embed.*pos_embed='ignore'"):
        encoder.init_weights()  # a learned table is refused unless dropped knowingly
    encoder = VideoViT(arch=TINY, input_size=(4, 32, 32), patch_size=(2, 8, 8),
                       init_cfg=dict(init_cfg, pos_embed='ignore'))
    encoder.init_weights()
    torch.testing.assert_close(encoder.blocks[0].attn.qkv.weight, vit.blocks[0].attn.qkv.weight)
    frame = torch.rand(1, 3, 32, 32)
    video = frame[:, :, None].expand(-1, -1, 4, -1, -1)
    torch.testing.assert_close(encoder.patch_embed(video)[:, :16],
                               vit.patch_embed(frame), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('frames', [2, 4])
def test_inflated_encoder_on_identical_frames_is_the_image_mae(tmp_path, frames):
    """IN-SSL init: on a clip of identical frames the video encoder's first temporal slot sees
    exactly the image MAE's inputs (inflated kernel, MAE's 2D positions); with one tubelet the
    whole encoder computes what the image model computes on the frame."""
    torch.manual_seed(0)
    vit = image_vit().eval()
    path = tmp_path / 'mae_pretrain_vit_tiny.pth'
    torch.save({'model': vit.state_dict()}, path)
    encoder = VideoViT(arch=TINY, input_size=(frames, 32, 32), patch_size=(2, 8, 8),
                       init_cfg=dict(type='ImageViTInflateInit', checkpoint=str(path))).eval()
    encoder.init_weights()
    frame = torch.rand(2, 3, 32, 32)
    clip = frame[:, :, None].expand(-1, -1, frames, -1, -1).contiguous()
    with torch.no_grad():
        tokens = encoder.embed(clip)  # [B, T' * 16, D]
        image_tokens = vit.patch_embed(frame) + vit.pos_embed[:, 1:]
        torch.testing.assert_close(tokens[:, :16], image_tokens, rtol=1e-5, atol=1e-5)
        if frames == 2:
            out, _ = encoder(clip, masked=False)  # [B, 1 + 16, D]
            torch.testing.assert_close(out, vit.forward_features(frame), rtol=1e-4, atol=1e-4)


def test_mavil_checkpoint_loads_encoders_only(tmp_path):
    torch.manual_seed(0)
    pretrained = tiny_mavil()
    path = tmp_path / 'stage1.pth'
    torch.save({'state_dict': pretrained.state_dict(), 'meta': {'iter': 3}}, path)
    model = classifier()
    fusion_before = copy.deepcopy(model.av_fusion.state_dict())
    report = load_pretrained(model, str(path))
    for name in ('audio_encoder', 'video_encoder'):
        own = getattr(model, name).state_dict()
        assert not any(k.startswith('norm.') for k in own)  # MAE global pool: no final norm
        for key, value in getattr(pretrained, name).state_dict().items():
            if not key.startswith('norm.'):
                torch.testing.assert_close(own[key], value)
    # the A+V fusion is new: the pre-training fusion neck is NOT loaded into it
    for key, value in fusion_before.items():
        torch.testing.assert_close(model.av_fusion.state_dict()[key], value)
    assert report.source.endswith('MAViL pre-training')
    assert {k.split('.')[0] for k in report.unexpected} == {'fusion', 'audio_decoder',
                                                            'video_decoder', 'audio_encoder',
                                                            'video_encoder'}
    assert {k for k in report.unexpected if k.endswith('_encoder.norm.weight')} == {
        'audio_encoder.norm.weight', 'video_encoder.norm.weight'}
    assert {k.split('.')[0] for k in report.missing} == {'av_fusion', 'head'}
    assert len(report.matched) == len(model.audio_encoder.state_dict()) * 2
    # the same through the model's load hook (as Runner.load_checkpoint / load_from does)
    model2 = classifier()
    model2.load_state_dict(pretrained.state_dict(), strict=False)
    assert model2.last_load_report.matched == report.matched


def test_fine_tuned_checkpoint_round_trips_exactly():
    model = classifier()
    other = classifier()
    other.load_state_dict(model.state_dict(), strict=True)
    assert not other.last_load_report.missing and not other.last_load_report.unexpected
    for key, value in model.state_dict().items():
        torch.testing.assert_close(other.state_dict()[key], value)


def test_checkpoint_of_another_architecture_fails_listing_shapes():
    wide = MODELS.build(dict(
        type='AVClassifier', modalities=('audio', ),
        data_preprocessor=dict(type='AVDataPreprocessor', modalities=('audio', )),
        audio_encoder=dict(AUDIO, arch=dict(embed_dim=96, depth=2, num_heads=4)),
        head=dict(type='ClsHead', num_classes=5)))
    with pytest.raises(RuntimeError) as err:
        classifier(('audio', )).load_state_dict(wide.state_dict(), strict=False)
    message = str(err.value)
    assert 'tensor shapes differ' in message
    assert 'audio_encoder.cls_token: checkpoint [1, 1, 96] vs model [1, 1, 64]' in message
    # a classifier with other classes: the head mismatches, unless told to skip it
    with pytest.raises(RuntimeError, match=r'head.fc.weight: checkpoint \[7, 64\]'):
        classifier(('audio', )).load_state_dict(
            classifier(('audio', ), num_classes=7).state_dict(), strict=False)
    transfer = classifier(('audio', ), checkpoint_ignore_keys=[r'^head\.'])
    transfer.load_state_dict(classifier(('audio', ), num_classes=7).state_dict(), strict=False)
    assert {k.split('.')[0] for k in transfer.last_load_report.missing} == {'head'}
    # nothing in common
    with pytest.raises(RuntimeError, match='shares no tensor'):
        classifier(('audio', )).load_state_dict({'backbone.weight': torch.zeros(1)},
                                                strict=False)
