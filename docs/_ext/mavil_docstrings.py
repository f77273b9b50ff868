"""Sphinx extension: mavil's docstrings as reStructuredText, and strict mavil references.

The docstrings are written to be read as text: shapes such as ``[B, C, *input_size]`` and
math such as ``|a - b|``. ``literal_shapes`` keeps reST from reading those as emphasis or
substitutions. ``resolve_mavil_reference`` makes a reference to a public ``mavil.`` object
either a link (also through a package that re-exports it) or a warning when no such object
exists (renamed, moved, misspelt), which ``-W`` turns into a failed build.
"""
import importlib
import re

from sphinx.util import logging

logger = logging.getLogger(__name__)
SHAPE = re.compile(r'\[[^\[\]`]*\*[^\[\]`]*\]')  # a shape with a starred part: [B, *size]


def _plain(text: str) -> str:
    text = SHAPE.sub(lambda m: f'``{m.group(0)}``', text)
    return text.replace('|', r'\|')


def literal_shapes(app, what, name, obj, options, lines) -> None:
    """autodoc-process-docstring: outside inline literals, starred shapes become literals
    and ``|`` is escaped."""
    for i, line in enumerate(lines):
        parts = line.split('``')
        if len(parts) % 2 == 0:  # an inline literal continues on another line: leave it
            continue
        lines[i] = '``'.join(_plain(p) if k % 2 == 0 else p for k, p in enumerate(parts))


def import_target(target: str):
    """The object a dotted ``mavil.`` path names, or None if there is none."""
    parts = target.split('.')
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def resolve_mavil_reference(app, env, node, contnode):
    """missing-reference: a ``mavil.`` path that imports resolves to where the object is
    documented (its defining module) or stays plain text; one that does not import warns."""
    target = node.get('reftarget', '')
    if node.get('refdomain') != 'py' or not target.startswith('mavil.'):
        return None
    obj = import_target(target)
    if obj is None:
        logger.warning('reference to a mavil object that does not exist: %s', target,
                       location=node, type='ref', subtype='mavil')
        return None
    module, qualname = getattr(obj, '__module__', None), getattr(obj, '__qualname__', None)
    if module and qualname and f'{module}.{qualname}' != target:
        domain = env.get_domain('py')
        found = domain.resolve_xref(env, node['refdoc'], app.builder, node['reftype'],
                                    f'{module}.{qualname}', node, contnode)
        if found is not None:
            return found
    return contnode  # exists, but not documented here (e.g. private or module data)


def setup(app):
    app.connect('autodoc-process-docstring', literal_shapes)
    app.connect('missing-reference', resolve_mavil_reference)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
