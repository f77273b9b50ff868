"""The component catalogue (docs/_ext/component_catalogue.py) lists every registered
component under its registry, with its arguments and the first line of its docstring."""
import importlib
import importlib.util
import inspect
import pkgutil
import re

import pytest
from mmengine.registry import Registry

import mavil
import mavil.registry
from tests.conftest import REPO


@pytest.fixture(scope='module')
def catalogue():
    spec = importlib.util.spec_from_file_location(
        'component_catalogue', REPO / 'docs' / '_ext' / 'component_catalogue.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def page(catalogue) -> str:
    return catalogue.render(catalogue.collect())


def registered() -> dict[str, dict[str, object]]:
    """registry attribute -> {name: class or function}, every mavil module imported."""
    for info in pkgutil.walk_packages(mavil.__path__, 'mavil.'):
        importlib.import_module(info.name)
    return {attr: dict(reg.module_dict) for attr, reg in vars(mavil.registry).items()
            if isinstance(reg, Registry) and reg.scope == 'mavil' and reg.module_dict}


def sections(page: str) -> dict[str, dict[str, str]]:
    """registry attribute -> {component name: its text} as the page lays them out."""
    found = {}
    for block in re.split(r'^## ', page, flags=re.M)[1:]:
        attr = re.match(r'.*\(`(\w+)`\)', block).group(1)
        entries = re.split(r'^### ', block, flags=re.M)[1:]
        found[attr] = {re.match(r'`([^`]+)`', e).group(1): e for e in entries}
    return found


def test_every_registered_component_is_listed_under_its_registry(page):
    expected = registered()
    listed = sections(page)
    assert set(listed) == set(expected)
    for attr, components in expected.items():
        assert set(listed[attr]) == set(components), attr
        for name, obj in components.items():
            assert f'{obj.__module__}.{obj.__qualname__}' in listed[attr][name], (attr, name)
    total = sum(len(c) for c in expected.values())
    assert f'{total} names in {len(expected)} registries' in page
    assert total >= 60  # models, transforms, loops, hooks, readers, formats, ...


def test_arguments_show_defaults_and_required_names(page):
    entry = sections(page)['MODELS']['ClsHead']
    assert '`num_classes` · `in_dim` · `norm=True` · `dropout=0.0`' in entry
    assert 'pooled features -> [B, num_classes] logits' in entry  # first docstring line


def test_arguments_passed_on_through_kwargs_are_listed(catalogue):
    from mavil.models.backbones.vit_encoder import AudioViT, MaskedViTEncoder

    args = catalogue.arguments(AudioViT)
    base = inspect.signature(MaskedViTEncoder.__init__).parameters
    assert args[:3] == ['input_size=(1024, 128)', 'patch_size=(16, 16)', 'in_channels=1']
    # the base's arguments follow, each once, with the base's defaults
    assert args[3:] == [f'{p.name}={p.default!r}' for p in base.values()
                        if p.name not in ('self', 'input_size', 'patch_size', 'in_channels')]


def test_aliases_point_to_the_first_name(page):
    loops = sections(page)['LOOPS']
    assert 'Another name for `SkipAwareIterBasedTrainLoop`' in loops['IterBasedTrainLoop']


def test_rest_roles_in_summaries_become_myst_roles(catalogue):
    def documented():
        """Wraps :class:`mavil.structures.AVDataSample` and :func:`len`."""

    assert catalogue.summary(documented) == (
        'Wraps {py:class}`mavil.structures.AVDataSample` and {py:func}`len`.')
