"""lrlab's shape: no import cycles, an explicit ``__all__`` in every public module, private internals.

The import graph is read from the source with :mod:`ast` (nothing is imported): an edge
``a -> b`` for every ``import lrlab.b`` / ``from lrlab import b`` / ``from lrlab.b import x``
in module ``a``, at module level or inside a function (a deferred import is still a
dependency: it only hides the cycle until the function runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lrlab"


def module_names() -> set[str]:
    """Return the dotted names of lrlab's modules (``lrlab`` itself for ``__init__.py``)."""
    return {"lrlab" if p.stem == "__init__" else f"lrlab.{p.stem}" for p in PACKAGE.glob("*.py")}


def imports(path: Path, modules: set[str]) -> set[str]:
    """Return the lrlab modules that the file at ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    """Return ``{module: lrlab modules it imports}`` (the package ``lrlab`` is not counted as a target)."""
    modules = module_names()
    graph = {}
    for path in PACKAGE.glob("*.py"):
        name = "lrlab" if path.stem == "__init__" else f"lrlab.{path.stem}"
        graph[name] = imports(path, modules) - {name, "lrlab"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_deferred_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from lrlab.x import y\n    import lrlab.z\n    from lrlab import w\n")
    assert imports(source, {"lrlab.x", "lrlab.z", "lrlab.w", "lrlab.y"}) == {"lrlab.x", "lrlab.z", "lrlab.w"}


def test_lrlab_has_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 10
    found = cycles(graph)
    assert not found, f"import cycles in lrlab (module-level and function-level imports): {found}"


def test_every_public_module_declares_all():
    """Each public module (no leading underscore) lists its public names in ``__all__``."""
    missing = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem.startswith("_") and path.stem != "__init__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
                isinstance(t, ast.Name) and t.id == "__all__"
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])) for node in tree.body):
            missing.append(path.name)
    assert not missing, f"public modules without __all__: {missing}"
