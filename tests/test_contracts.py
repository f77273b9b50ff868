"""Every registered component meets the contract of its kind (mavil/contracts.py,
MediaReader, AnnotationFormat), and a component that does not is refused at build time."""
import copy
import inspect

import pytest
import torch
from torch import nn

import mavil.datasets  # noqa: F401  (registers readers and annotation formats)
import mavil.models  # noqa: F401  (registers the model components)
from mavil.contracts import (FusionNeck, MaskedEncoder, TargetGenerator, check_contract,
                             contract_members)
from mavil.datasets.annotations import AnnotationFormat
from mavil.datasets.readers import MediaReader
from mavil.models.necks import build_fusion
from mavil.registry import ANNOTATION_FORMATS, MEDIA_READERS, MODELS
from tests.conftest import REPO, TINY_STAGE1

# package of the registered classes -> the contract they meet
CONTRACTS = {
    'mavil.models.backbones': MaskedEncoder,
    'mavil.models.necks': FusionNeck,
    'mavil.models.targets': TargetGenerator,
}
TINY = dict(arch=dict(embed_dim=32, depth=1, num_heads=2))


def registered_of(package: str) -> dict[str, type]:
    return {name: cls for name, cls in MODELS.module_dict.items()
            if inspect.isclass(cls) and cls.__module__.startswith(package + '.')}


@pytest.fixture(scope='module')
def examples(stage1_cfg, tmp_path_factory) -> dict[str, nn.Module]:
    """One tiny built instance of every registered encoder, fusion neck and target generator."""
    model = MODELS.build(copy.deepcopy(stage1_cfg.model))
    ckpt = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    return {
        'AudioViT': MODELS.build(dict(type='AudioViT', input_size=(32, 16), patch_size=(8, 8),
                                      **TINY)),
        'VideoViT': MODELS.build(dict(type='VideoViT', input_size=(2, 32, 32),
                                      patch_size=(2, 8, 8), **TINY)),
        'JointFusion': MODELS.build(dict(type='JointFusion', embed_dim=32, depth=1,
                                         num_heads=2)),
        'MBTFusion': MODELS.build(dict(type='MBTFusion', embed_dim=32, depth=1, num_heads=2)),
        'RawTargets': MODELS.build(dict(type='RawTargets')),
        'TeacherTargets': MODELS.build(dict(type='TeacherTargets', teacher_config=str(TINY_STAGE1),
                                            teacher_ckpt=str(ckpt), autocast=False)),
    }


@pytest.mark.parametrize('package', sorted(CONTRACTS))
def test_every_registered_model_component_meets_its_contract(package, examples):
    registered = registered_of(package)
    assert registered, f'nothing registered from {package}'
    contract = CONTRACTS[package]
    for name, cls in registered.items():
        assert name in examples, f'{name} ({package}) has no example instance in this test'
        instance = examples[name]
        assert type(instance) is cls
        assert isinstance(instance, contract), (
            f'{name} misses {[m for m in contract_members(contract) if not hasattr(instance, m)]}')


def test_registered_media_readers_implement_the_reader_base():
    MEDIA_READERS.import_from_location()
    assert set(MEDIA_READERS.module_dict) >= {'decord', 'pyav'}
    for name, cls in MEDIA_READERS.module_dict.items():
        assert issubclass(cls, MediaReader), name
        assert not inspect.isabstract(cls), f'{name} leaves {cls.__abstractmethods__} abstract'


def test_registered_annotation_formats_implement_the_format_base():
    ANNOTATION_FORMATS.import_from_location()
    assert set(ANNOTATION_FORMATS.module_dict) >= {'csv', 'jsonl', 'audioset', 'vggsound'}
    for name, cls in ANNOTATION_FORMATS.module_dict.items():
        assert issubclass(cls, AnnotationFormat), name
        assert callable(cls.rows), f'{name} has no rows(path) reader'


def test_contract_members_lists_attributes_and_methods():
    assert contract_members(FusionNeck) == ['embed_dim', 'forward']
    assert contract_members(TargetGenerator) == ['check_compatible', 'forward', 'out_dim']
    assert {'embed_dim', 'grid_size', 'patch_embed', 'sample_mask', 'encode_views',
            'embed'} <= set(contract_members(MaskedEncoder))


class NoWidthFusion(nn.Module):
    def forward(self, audio, video):
        return audio, video


class NoCheckTargets(nn.Module):
    def out_dim(self, encoder):
        return 4

    def forward(self, inputs, encoders):
        return {}


def test_a_fusion_neck_without_embed_dim_is_refused_by_name(examples):
    encoders = {'audio': examples['AudioViT'], 'video': examples['VideoViT']}
    with pytest.raises(TypeError, match=r'fusion: NoWidthFusion .*FusionNeck.*missing: embed_dim'):
        build_fusion(NoWidthFusion(), encoders)


def test_a_target_generator_without_check_compatible_is_refused_by_name(stage1_cfg):
    cfg = copy.deepcopy(stage1_cfg.model)
    cfg.target = NoCheckTargets()
    with pytest.raises(TypeError, match=r'model.target: NoCheckTargets .*TargetGenerator.*'
                                        r'missing: check_compatible'):
        MODELS.build(cfg)


def test_an_encoder_missing_a_member_is_refused_by_name(stage1_cfg):
    encoder = MODELS.build(copy.deepcopy(stage1_cfg.model.audio_encoder))
    del encoder.mask_type  # a plain attribute
    cfg = copy.deepcopy(stage1_cfg.model)
    cfg.audio_encoder = encoder
    with pytest.raises(TypeError, match=r'model.audio_encoder: AudioViT .*missing: mask_type'):
        MODELS.build(cfg)


def test_check_contract_passes_a_conforming_component(examples):
    check_contract(examples['JointFusion'], FusionNeck, 'fusion')  # no error


def test_the_example_plugin_neck_meets_the_fusion_contract(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / 'projects' / 'example_plugin'))
    import example_plugin

    neck = example_plugin.GatedCrossFusion(embed_dim=32, depth=1, num_heads=2)
    assert isinstance(neck, FusionNeck)
