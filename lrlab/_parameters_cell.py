"""The parameters a notebook's ``parameters`` cell declares, and command-line values typed to match.

Names, defaults and annotations come from papermill's own inspection
(:func:`papermill.inspect_notebook`), so lrlab and papermill agree on what a notebook
accepts. papermill's line parser skips an assignment whose line holds a second ``=``
(``initial_lr = 0.1  # lr_k = …``); those names are completed from Python's parse of the
cell. Values are parsed the way papermill's CLI parses ``-p`` values and must have the
type of the declared default (an int where a float is declared is fine); a string
parameter takes the text as given, like papermill's ``-r``.

A parameter's help text is its line's trailing comment (``steps = 40  # gradient steps``),
as papermill's ``--help-notebook`` reads it. A parameters file (``-f FILE.yaml``) maps names
to a value or a list of values; :func:`read_parameters_file` turns each value into the text
``-p`` would have been given, so both go through the same checks.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from pathlib import Path

from lrlab.params import ParameterError

__all__ = ["Declared", "declared_parameters", "parse_value", "parse_values", "read_parameters_file"]


@dataclass(frozen=True)
class Declared:
    """A parameter of a notebook's ``parameters`` cell: its name, default (source text) and type."""

    name: str
    default: str
    kind: str  # "int", "float", "bool", "str", "any", or the name of a type -p cannot give (list, dict…)
    help: str = ""  # the assignment's trailing comment


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


def _comments(source: str) -> dict[int, str]:
    """Return {line number: comment text without '#'} of a cell's comments."""
    import io
    import tokenize

    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _cell_assignments(source: str) -> dict[str, tuple[str, str]]:
    """Return {name: (default source, help)} for the top-level assignments of a parameters cell (Python's ast).

    The help is the comment at the end of the assignment's line(s).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: papermill's inspection is all we have
        return {}
    comments = _comments(source)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name = node.target.id
        else:
            continue
        lines = range(node.lineno, node.end_lineno + 1)
        comment = " ".join(comments[n] for n in lines if n in comments)
        found[name] = (ast.get_source_segment(source, node.value), comment)
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
        default, help_text = parsed.get(name, (info.get("default", ""), info.get("help", "")))
        annotation = info.get("inferred_type_name", "None")
        declared[name] = Declared(name, default, _kind_of(default, annotation), help_text)
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


def _as_text(path, name, value) -> str:
    if isinstance(value, (list, tuple, dict, set)):
        raise ParameterError(f"{path}: {name} has a nested {type(value).__name__} among its values; "
                             "expected one value or a list of values (numbers, True/False or text)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return str(value)  # str as given; True/False/None and dates as papermill's -p would read their text


def read_parameters_file(path) -> dict[str, list[str]]:
    """Return ``{name: [texts]}`` from a YAML file mapping each name to a value or a list of values.

    Each value becomes the text ``-p`` would have been given (``0.1`` -> ``"0.1"``, ``true``
    -> ``"True"``), so file and command line are checked alike by :func:`parse_values`. Raises
    FileNotFoundError for a missing file and :class:`lrlab.ParameterError` (one line) for a
    file that is not YAML, not a mapping, or holds an empty list or a nested value.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"parameters file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ParameterError(f"{path}: not valid YAML{line}; expected a mapping of parameter names to a value "
                             "or a list of values, e.g. 'initial_lr: [0.05, 0.1]'") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: holds {'nothing' if data is None else 'a ' + type(data).__name__}; expected a "
                             "mapping of parameter names to a value or a list of values, "
                             "e.g. 'initial_lr: [0.05, 0.1]'")
    values = {}
    for name, value in data.items():
        if not isinstance(name, str):
            raise ParameterError(f"{path}: the key {name!r} is not a parameter name")
        texts = [_as_text(path, name, v) for v in value] if isinstance(value, list) else [_as_text(path, name, value)]
        if not texts:
            raise ParameterError(f"{path}: {name} is an empty list; expected at least one value")
        values[name] = texts
    return values
