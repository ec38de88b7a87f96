"""Sphinx extension of the book: the ``lrlab-api`` directive, an API reference that covers every module.

``lrlab`` grows a module at a time (schedules, plateau, tf, torch, sweep, …). Rather than a
hand-kept list that falls behind, the directive finds the package's public modules when the
site is built (every ``lrlab/*.py`` whose name does not start with ``_``, plus ``lrlab``
itself: a leading underscore marks an internal module, which the reference leaves out) and
writes, for each, what a hand-written reference page would hold:

* an ``autosummary`` table of the modules with the first line of each module's docstring;
* one section per module with ``automodule``, ``:members:`` and ``:undoc-members:``, which
  documents exactly the names in the module's ``__all__`` (each function's docstring,
  signature and formulas; constants get an ``autodata`` entry each, with their value), so
  that a chapter can link
  ``{py:func}`lrlab.schedules.make``` to it.

Every module is imported for real (TensorFlow and PyTorch included) rather than mocked, so
signatures and defaults are the true ones and a module that fails to import fails the build.
``tests/test_reference.py`` checks the built inventory against the package independently.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

PACKAGE = "lrlab"


def public_modules(package: str = PACKAGE) -> list[str]:
    """Return the dotted names of ``package`` and its public submodules, package first, then sorted."""
    root = importlib.import_module(package)
    names = sorted(f"{package}.{info.name}" for info in pkgutil.iter_modules(root.__path__)
                   if not info.name.startswith("_"))
    return [package, *names]


def data_members(module_name: str) -> list[str]:
    """Return the names in a module's ``__all__`` that are constants (not classes, functions or modules).

    ``automodule`` documents a constant only when its source carries a ``#:`` comment; these are
    given their own ``autodata`` entry so that every public name is in the reference, with its value.
    """
    module = importlib.import_module(module_name)
    names = [n for n in getattr(module, "__all__", []) if not n.startswith("__")]
    return [n for n in names if not (inspect.isclass(value := getattr(module, n))
                                     or inspect.isroutine(value) or inspect.ismodule(value))]


class LrlabApi(SphinxDirective):
    """``lrlab-api``: a summary table of lrlab's public modules and one autodoc section for each."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        modules = public_modules()
        rst = [".. autosummary::", "   :nosignatures:", ""]
        rst += [f"   {name}" for name in modules]
        rst.append("")
        for name in modules:
            constants = data_members(name)
            rst += [f"``{name}``", "-" * (len(name) + 4), ""]
            rst += [f".. automodule:: {name}", "   :members:", "   :undoc-members:", "   :show-inheritance:"]
            if constants:
                rst.append(f"   :exclude-members: {', '.join(constants)}")
            rst.append("")
            rst += [line for constant in constants for line in (f".. autodata:: {name}.{constant}", "")]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(rst, source=f"<lrlab-api:{self.env.docname}>"),
                                 container)
        # The generated sections depend on every module's source: re-read the page when one
        # changes (note_dependency), or when a module appears or goes (env_get_outdated).
        for name in modules:
            module = importlib.import_module(name)
            if getattr(module, "__file__", None):
                self.env.note_dependency(module.__file__)
        _pages(self.env)[self.env.docname] = modules
        return container.children


def _pages(env) -> dict[str, list[str]]:
    """Return ``{docname: modules it documented}`` for the pages holding an ``lrlab-api`` directive."""
    if not hasattr(env, "lrlab_api_pages"):
        env.lrlab_api_pages = {}
    return env.lrlab_api_pages


def env_get_outdated(app, env, added, changed, removed) -> list[str]:
    """Return the reference pages whose list of modules is no longer the package's."""
    modules = public_modules()
    return [docname for docname, documented in _pages(env).items() if documented != modules]


def env_purge_doc(app, env, docname) -> None:
    _pages(env).pop(docname, None)


def env_merge_info(app, env, docnames, other) -> None:
    _pages(env).update(_pages(other))


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.autosummary")
    app.add_directive("lrlab-api", LrlabApi)
    app.connect("env-get-outdated", env_get_outdated)
    app.connect("env-purge-doc", env_purge_doc)
    app.connect("env-merge-info", env_merge_info)
    return {"version": "1", "env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
