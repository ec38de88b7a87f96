"""The API reference covers every public lrlab module and every name in each module's ``__all__``.

The reference page (book/reference/api.rst) is generated when the site is built. This test finds
the public modules on its own — every ``lrlab/*.py`` (and sub-package) whose name does not start
with ``_`` — reads ``__all__`` from the source, and looks each one up in the built site's
inventory (``objects.inv``, the index Sphinx resolves ``{py:func}`lrlab.schedules.make``` against).
"""

from __future__ import annotations

import ast
import importlib

import pytest

pytestmark = pytest.mark.site

REFERENCE_PAGE = "book/reference/api.html"


def public_modules(root) -> list[str]:
    package = root / "lrlab"
    names = ["lrlab"]
    for path in sorted(package.iterdir()):
        if path.name.startswith("_"):
            continue
        if path.suffix == ".py":
            names.append(f"lrlab.{path.stem}")
        elif path.is_dir() and (path / "__init__.py").exists():
            names.append(f"lrlab.{path.name}")
    return names


def declared_all(root, module: str) -> list[str]:
    """Return the module's ``__all__``, read from its source (imported only if it is computed)."""
    parts = module.split(".")[1:]
    path = root.joinpath("lrlab", *parts)
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                try:
                    return list(ast.literal_eval(node.value))
                except ValueError:
                    return list(importlib.import_module(module).__all__)
    return []


@pytest.fixture(scope="module")
def inventory(built_site):
    from sphinx.util.inventory import InventoryFile

    with open(built_site / "objects.inv", "rb") as stream:
        data = InventoryFile.load(stream, "", lambda base, name: name)
    return {name: (kind, entry[2]) for kind, entries in data.items() if kind.startswith("py:")
            for name, entry in entries.items()}


def test_every_module_declares_all(root):
    missing = [m for m in public_modules(root) if not declared_all(root, m)]
    assert not missing, f"public modules without __all__ (the reference documents __all__): {missing}"


def test_every_public_module_is_in_the_reference(root, inventory):
    modules = public_modules(root)
    assert len(modules) > 5
    missing = [m for m in modules if inventory.get(m, ("", ""))[0] != "py:module"]
    assert not missing, f"lrlab modules missing from the API reference: {missing}"
    elsewhere = {m: inventory[m][1] for m in modules if not inventory[m][1].startswith(REFERENCE_PAGE)}
    assert not elsewhere, f"modules documented outside {REFERENCE_PAGE}: {elsewhere}"


def test_every_public_name_is_in_the_reference(root, inventory):
    missing = {m: [n for n in declared_all(root, m) if f"{m}.{n}" not in inventory and not n.startswith("__")]
               for m in public_modules(root)}
    missing = {m: names for m, names in missing.items() if names}
    assert not missing, f"names in __all__ without an entry in the API reference: {missing}"


def test_chapter_link_targets_resolve(inventory):
    # the link forms chapters use, e.g. {py:func}`lrlab.record`, {py:mod}`lrlab.schedules`
    assert inventory["lrlab.record"][0] == "py:function"
    assert inventory["lrlab.schedules"][0] == "py:module"
    assert inventory["lrlab.schedules.make"][0] == "py:function"
