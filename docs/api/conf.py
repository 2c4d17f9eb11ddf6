"""Sphinx configuration of the API reference (built from the docstrings, NumPy style).

Build: ``.venv/bin/sphinx-build -W -b html docs/api docs/_build/api`` (``tests/test_docs.py`` does,
and fails on any warning).
"""

project = "epl_sysbio"
author = "the epl_sysbio authors"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
autosummary_generate = True
autosummary_imported_members = False
# Members where they are defined (re-exports would document each class twice).
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True,
                           "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_mock_imports = ["torch"]  # the torch extra is optional; its module is documented all the same
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" sections as fields: dataclass fields are not described twice
templates_path = ["_templates"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = "epl_sysbio API reference"
nitpicky = False
# An attribute name used as a type in two classes (``method``) is ambiguous, not wrong.
suppress_warnings = ["autosummary.import_cycle", "ref.python"]
