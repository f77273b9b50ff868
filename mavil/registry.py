"""Child registries of MMEngine's roots.

Every registry names the package that fills it (``locations``) so that a lookup such as
``MODELS.build(dict(type='mavil.AudioViT'))`` imports the right modules lazily, and the
Runner finds our components under ``default_scope='mavil'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mavil.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['mavil.engine'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['mavil.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['mavil.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, locations=['mavil.datasets'])
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['mavil.datasets'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mavil.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mavil.engine'])
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['mavil.engine'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['mavil.evaluation'])
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['mavil.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['mavil.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mavil.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['mavil.engine'])

# Open tables of our own (MMEngine has no root for them): a plugin adds a media backend or an
# annotation format through ``custom_imports``, like any other component.
MEDIA_READERS = Registry(
    'media reader', scope='mavil', locations=['mavil.datasets.readers'])
ANNOTATION_FORMATS = Registry(
    'annotation format', scope='mavil', locations=['mavil.datasets.annotations'])


def build_component(registry: Registry, cfg, **default_args):
    """Build ``cfg`` from ``registry`` (a built module passes through unchanged).

    Unknown types fail with the registry's name and the types it knows, rather than
    MMEngine's bare ``KeyError``.
    """
    if not isinstance(cfg, dict):
        return cfg
    if 'type' not in cfg:
        raise KeyError(f'{registry.name} config {dict(cfg)} has no "type" key')
    type_name = cfg['type']
    if isinstance(type_name, str) and registry.get(type_name) is None:
        known = sorted(_known_types(registry))
        raise KeyError(f'unknown {registry.name} type "{type_name}" in registry '
                       f'"{registry.scope}.{registry.name}"; known types: {", ".join(known)}')
    return registry.build(cfg, default_args=default_args or None)


def get_registered(registry: Registry, name: str, what: str):
    """The class or function registered as ``name``; an unknown name fails with the known
    ones (``what`` names the option, e.g. 'media backend')."""
    found = registry.get(name) if isinstance(name, str) else None
    if found is None:
        raise KeyError(f'unknown {what} {name!r}; choose one of '
                       f'{sorted(registered_names(registry))}')
    return found


def registered_names(registry: Registry) -> list[str]:
    """Names registered in ``registry`` (its locations imported first)."""
    return sorted(_known_types(registry))


def _known_types(registry: Registry) -> set:
    registry.import_from_location()
    names = set(registry.module_dict)
    if registry.parent is not None:
        names |= set(registry.parent.module_dict)
    return names
