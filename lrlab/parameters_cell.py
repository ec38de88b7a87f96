"""The parameters a notebook's ``parameters`` cell declares, and command-line values typed to match.

Names, defaults and annotations come from papermill's own inspection
(:func:`papermill.inspect_notebook`), so lrlab and papermill agree on what a notebook
accepts. papermill's line parser skips an assignment whose line holds a second ``=``
(``initial_lr = 0.1  # lr_k = …``); those names are completed from Python's parse of the
cell. Values are parsed the way papermill's CLI parses ``-p`` values and must have the
type of the declared default (an int where a float is declared is fine); a string
parameter takes the text as given, like papermill's ``-r``.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from pathlib import Path

from lrlab.params import ParameterError

__all__ = ["Declared", "declared_parameters", "parse_value", "parse_values"]


@dataclass(frozen=True)
class Declared:
    """A parameter of a notebook's ``parameters`` cell: its name, default (source text) and type."""

    name: str
    default: str
    kind: str  # "int", "float", "bool", "str", "any", or the name of a type -p cannot give (list, dict…)


def _kind_of(default_source: str, annotation: str) -> str:
    if annotation in ("int", "float", "bool", "str"):
        return annotation
    try:
        value = ast.literal_eval(default_source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return "any"  # an expression: its type is only known when it runs
    if value is None:
        return "any"
    return type(value).__name__


def _cell_assignments(source: str) -> dict[str, str]:
    """Return {name: default source} for the top-level assignments of a parameters cell (Python's ast)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: papermill's inspection is all we have
        return {}
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.get_source_segment(source, node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = ast.get_source_segment(source, node.value)
    return found


def declared_parameters(notebook) -> dict[str, Declared]:
    """Return the parameters the notebook's ``parameters`` cell declares, in cell order.

    Names, defaults and annotations come from :func:`papermill.inspect_notebook`.
    Its line parser skips an assignment whose line holds a second ``=`` (in a
    comment, say); those names are completed from Python's own parse of the cell.
    Raises FileNotFoundError for a missing notebook.
    """
    import nbformat
    from papermill.inspection import inspect_notebook

    notebook = Path(notebook)
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {str(notebook)!r} does not exist")
    log = logging.getLogger("papermill")
    level = log.level
    log.setLevel(logging.ERROR)  # "Unable to parse line …": the ast pass below covers those lines
    try:
        inspected = inspect_notebook(str(notebook))
    finally:
        log.setLevel(level)
    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    parsed = _cell_assignments(cell.source) if cell is not None else {}
    declared = {}
    for name in list(parsed) + [n for n in inspected if n not in parsed]:
        info = inspected.get(name, {})
        default = parsed.get(name, info.get("default", ""))
        annotation = info.get("inferred_type_name", "None")
        declared[name] = Declared(name, default, _kind_of(default, annotation))
    return declared


def parse_value(text: str):
    """Return ``text`` parsed the way papermill's CLI parses a ``-p`` value.

    ``True``/``False``/``None``, then int, then float, else the string itself.
    """
    from papermill.cli import _resolve_type  # papermill's own parser, so lrlab and papermill agree

    return _resolve_type(text)


_ALLOWED = {"int": "a whole number", "float": "a number", "bool": "True or False"}


def _typed(notebook, declared: Declared, text: str):
    if declared.kind == "str":
        return text  # as papermill's -r: a string parameter takes the text as given
    value = parse_value(text)
    ok = {
        "any": True,
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
    }.get(declared.kind)
    if ok is None:
        raise ParameterError(f"{notebook}: {declared.name} cannot be set with -p; its default "
                             f"{declared.default} is a {declared.kind}, and -p gives one number, bool or string")
    if not ok:
        raise ParameterError(f"{notebook}: {declared.name} = {text!r} is not allowed; expected "
                             f"{_ALLOWED[declared.kind]}, like its default {declared.name} = {declared.default}")
    return value


def parse_values(notebook, values: dict[str, list[str]], declared=None) -> dict[str, list]:
    """Return ``{name: [typed values]}`` after checking every name and value against the notebook.

    ``values`` maps parameter names to the texts given on the command line. Raises
    :class:`lrlab.ParameterError` naming the notebook, the parameter, the value and
    what is allowed; duplicate values are dropped (first one kept).
    """
    declared = declared_parameters(notebook) if declared is None else declared
    typed = {}
    for name, texts in values.items():
        if name not in declared:
            allowed = ", ".join(declared) if declared else "nothing (it has no cell tagged 'parameters')"
            raise ParameterError(f"{notebook}: there is no parameter {name!r}; its parameters cell declares {allowed}")
        if not texts:
            raise ParameterError(f"{notebook}: {name} is given no value")
        unique = []
        for value in (_typed(notebook, declared[name], t) for t in texts):
            if not any(type(value) is type(u) and value == u for u in unique):
                unique.append(value)
        typed[name] = unique
    order = list(declared)
    return dict(sorted(typed.items(), key=lambda item: order.index(item[0])))
