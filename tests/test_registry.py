"""mavil.registry: child registries of MMEngine's roots and build_component."""
import pytest
import torch
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope

from mavil import registry
from mavil.registry import MODELS, build_component

MODEL_COMPONENTS = ('AudioViT', 'VideoViT', 'JointFusion', 'MBTFusion', 'MaskedDecoder',
                    'RawTargets', 'MaskedMSELoss', 'InfoNCELoss', 'MAViL', 'AVDataPreprocessor')


def test_children_of_mmengine_roots_with_locations():
    import mmengine.registry as roots
    for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS', 'METRICS', 'RUNNERS',
                 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS'):
        child = getattr(registry, name)
        assert child.scope == 'mavil', name
        assert child.parent is getattr(roots, name), name
        assert child._locations and all(loc.startswith('mavil.') for loc in child._locations)


def test_model_components_are_registered():
    for name in MODEL_COMPONENTS:
        assert MODELS.get(name) is not None, name
        assert MODELS.get(f'mavil.{name}') is MODELS.get(name)


def test_build_component_builds_and_passes_modules_through():
    loss = build_component(MODELS, dict(type='MaskedMSELoss', loss_weight=2.0))
    assert type(loss).__name__ == 'MaskedMSELoss' and loss.loss_weight == 2.0
    module = torch.nn.Linear(2, 2)
    assert build_component(MODELS, module) is module
    # default_args fill in what the config leaves out
    nce = build_component(MODELS, dict(type='InfoNCELoss'), temperature=0.5)
    assert nce.temperature == 0.5


def test_unknown_type_names_registry_and_known_types():
    with pytest.raises(KeyError) as err:
        build_component(MODELS, dict(type='NoSuchFusion'))
    message = str(err.value)
    assert 'NoSuchFusion' in message and '"mavil.model"' in message
    for name in MODEL_COMPONENTS:
        assert name in message


def test_missing_type_key():
    with pytest.raises(KeyError, match='no "type" key'):
        build_component(MODELS, dict(loss_weight=1.0))


def test_runner_style_lookup_through_mmengine_root():
    """MMEngine's root registry finds our components by scope prefix or default scope."""
    loss = MMENGINE_MODELS.build(dict(type='mavil.MaskedMSELoss'))
    assert type(loss).__name__ == 'MaskedMSELoss'
    with DefaultScope.overwrite_default_scope('mavil'):
        nce = MMENGINE_MODELS.build(dict(type='InfoNCELoss'))
    assert type(nce).__name__ == 'InfoNCELoss'
