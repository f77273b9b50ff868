"""Sphinx extension: ``components.md``, every component of mavil's registries on one page.

For each registry of ``mavil.registry`` (scope ``mavil``) it lists every registered name, the
class or function behind it, its constructor arguments with their defaults and the first
line of its docstring. The page is written into the source folder when the build starts, so
it always matches the code; a renamed class breaks its cross-reference and the ``-W`` build.
"""
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PAGE = 'components.md'
_ROLE = re.compile(r':(?:py:)?(class|func|meth|mod|attr|obj|data|exc):`')


@dataclass(frozen=True)
class Component:
    """One registered name."""
    registry: str  # attribute name in mavil.registry, e.g. 'MODELS'
    registry_name: str  # the registry's own name, e.g. 'model'
    name: str  # what a config writes as type=
    obj: Callable

    @property
    def path(self) -> str:
        return f'{self.obj.__module__}.{self.obj.__qualname__}'


def import_all() -> None:
    """Import every module of ``mavil``: each registers its components on import, so the
    catalogue does not depend on what happened to be imported before."""
    import mavil

    for module in pkgutil.walk_packages(mavil.__path__, 'mavil.'):
        importlib.import_module(module.name)


def registries() -> dict:
    """``mavil.registry``'s own registries (scope ``mavil``), in declaration order, after
    every module of ``mavil`` is imported."""
    import mavil.registry as registry_module
    from mmengine.registry import Registry

    import_all()
    found = {}
    for attr, value in vars(registry_module).items():
        if isinstance(value, Registry) and value.scope == 'mavil':
            value.import_from_location()
            found[attr] = value
    return found


def collect() -> list[Component]:
    """Every registered component, by registry, then by name."""
    return [Component(attr, registry.name, name, registry.module_dict[name])
            for attr, registry in registries().items()
            for name in sorted(registry.module_dict)]


def arguments(obj: Callable) -> list[str]:
    """``name=default`` (or ``name`` when required) for each argument a config can set.

    For a class, the arguments of the ``__init__`` it runs; when that passes ``**kwargs`` on
    to a mavil base class, the base's arguments follow (a config sets those too)."""
    if not inspect.isclass(obj):
        return _params(inspect.signature(obj), skip_first=False)[0]
    listed, seen = [], set()
    for klass in obj.__mro__:
        if '__init__' not in vars(klass) or klass is object:
            continue
        if listed and not klass.__module__.startswith('mavil'):
            break
        params, forwards = _params(inspect.signature(klass.__init__), skip_first=True)
        for text in params:
            key = text.split('=')[0]
            if key not in seen:
                seen.add(key)
                listed.append(text)
        if not forwards:
            break
    return listed


def _params(signature: inspect.Signature, skip_first: bool) -> tuple[list[str], bool]:
    params = list(signature.parameters.values())[1 if skip_first else 0:]
    texts, forwards = [], False
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            forwards = True
        elif p.kind is p.VAR_POSITIONAL:
            texts.append(f'*{p.name}')
        elif p.default is p.empty:
            texts.append(p.name)
        else:
            texts.append(f'{p.name}={p.default!r}')
    return texts, forwards


def summary(obj: Callable) -> str:
    """The first line of ``obj``'s own docstring (not a base class's), reST roles written as
    MyST roles."""
    doc = inspect.cleandoc(obj.__doc__ or '')
    first = doc.strip().split('\n\n')[0].replace('\n', ' ')
    return _ROLE.sub(r'{py:\1}`', first) or '(no docstring)'


def render(components: list[Component]) -> str:
    """The catalogue page (MyST Markdown)."""
    from mavil import registry as registry_module

    lines = [
        '# Component catalogue', '',
        f'Every component a config can name with `type=`: {len(components)} names in '
        f'{len({c.registry for c in components})} registries of {{py:mod}}`mavil.registry`, '
        'with the arguments a config sets (defaults shown; a name alone is required) and '
        'the first line of the docstring. This page is generated from the registries when '
        'the documentation is built.', '']
    classes = {}  # one entry per class: under its own name if registered so, else the first
    for c in components:
        if c.name == getattr(c.obj, '__name__', None) or id(c.obj) not in classes:
            classes[id(c.obj)] = c.name
    for attr in registries():
        group = [c for c in components if c.registry == attr]
        if not group:
            continue
        registry = getattr(registry_module, attr)
        lines += [f'## {registry.name} (`{attr}`)', '']
        for c in group:
            role = 'py:class' if inspect.isclass(c.obj) else 'py:func'
            lines += [f'### `{c.name}`', '',
                      f'{{{role}}}`{c.path}`: {summary(c.obj)}', '']
            if classes[id(c.obj)] != c.name:
                lines += [f'Another name for `{classes[id(c.obj)]}`.', '']
                continue
            args = arguments(c.obj)
            lines += [' · '.join(f'`{a}`' for a in args) if args else 'No arguments.', '']
    return '\n'.join(lines)


def write_catalogue(app) -> None:
    """builder-inited: (re)write components.md only when its text changes (keeps the
    incremental build incremental)."""
    page = Path(app.srcdir) / PAGE
    text = render(collect())
    if not page.exists() or page.read_text(encoding='utf-8') != text:
        page.write_text(text, encoding='utf-8')


def setup(app):
    app.connect('builder-inited', write_catalogue)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
