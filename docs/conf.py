"""Sphinx configuration: MyST pages in docs/, the API reference from the docstrings of the
``mavil`` package, and the component catalogue generated from its registries."""
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS.parent), str(DOCS / '_ext')]

import mavil  # noqa: E402

project = 'mavil'
release = version = mavil.__version__
copyright = 'the mavil authors'

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.autosummary',
    'sphinx.ext.napoleon',  # Google-style docstrings
    'mavil_docstrings',
    'component_catalogue',
]
source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}  # .rst: generated API stubs
exclude_patterns = ['_build', '_templates', '_ext', 'Thumbs.db', '.DS_Store']
templates_path = ['_templates']
html_theme = 'furo'
html_title = f'mavil {release}'

myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']

autosummary_generate = True
autosummary_imported_members = False
# every public member, each documented once: in the module that defines it
autodoc_default_options = {'members': True, 'undoc-members': True, 'show-inheritance': True,
                           'ignore-module-all': True}
autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # Attributes: sections as fields (the members are listed anyway)
# our docstrings, not MMEngine's or torch's inherited through an override
autodoc_inherit_docstrings = False

# Docstrings mention objects of torch and mmengine by short names, which are not documented
# here; a reference to a ``mavil.`` object that does not exist is an error instead
# (_ext/mavil_docstrings.py).
nitpicky = False
