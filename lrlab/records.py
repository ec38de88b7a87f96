"""Results handed from notebooks to sweeps, the claims page and the tests.

``record(name, value)`` displays a result as an output of the running cell:
a ``text/plain`` line for the reader and a machine-readable JSON bundle under
:data:`MIME_TYPE`. Because it is an ordinary output it is stored in the
executed notebook, compared by nbval and read back by ``collect`` from any
number of executed notebooks (the book's own, or a papermill sweep's).
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

import numpy as np

__all__ = ["MIME_TYPE", "RecordMimeRenderer", "collect", "record", "to_json_value"]

MIME_TYPE = "application/vnd.lrlab.record+json"


def to_json_value(value):
    """Return ``value`` converted to plain JSON types (numpy and pandas included).

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"`` so that
    the stored JSON stays standard.
    """
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return [to_json_value(row) for row in value.to_dict(orient="records")]
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or isinstance(value, np.ndarray):
        return [to_json_value(v) for v in list(value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"record: cannot store a value of type {type(value).__name__}; "
                    "use numbers, strings, lists, dicts or a DataFrame")


def record(name: str, value) -> None:
    """Record ``value`` under ``name`` as an output of the current notebook cell.

    Outside IPython (a plain script or a test) it prints the text line only.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name = {name!r} is not allowed; expected a non-empty string")
    payload = {"name": name, "value": to_json_value(value)}
    text = f"recorded {name} = {json.dumps(payload['value'])}"
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover
        get_ipython = lambda: None  # noqa: E731
    if get_ipython() is None:
        print(text)
        return
    display({MIME_TYPE: payload, "text/plain": text}, raw=True)


def _notebook_paths(paths) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"paths: {str(path)!r} does not exist")
    return found


def collect(paths):
    """Return every record in the executed notebooks under ``paths`` as a DataFrame.

    ``paths`` is a notebook, a folder (searched recursively) or a list of them.
    Columns: ``notebook``, ``name``, ``value`` and ``parameters`` (the papermill
    parameters the notebook ran with, a dict, empty for its defaults).
    """
    import pandas as pd

    rows = []
    for path in _notebook_paths(paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        parameters = nb.get("metadata", {}).get("papermill", {}).get("parameters", {}) or {}
        for cell in nb.get("cells", []):
            for output in cell.get("outputs", []):
                payload = output.get("data", {}).get(MIME_TYPE)
                if payload is not None:
                    rows.append({"notebook": str(path), "name": payload["name"],
                                 "value": payload["value"], "parameters": parameters})
    return pd.DataFrame(rows, columns=["notebook", "name", "value", "parameters"])


class RecordMimeRenderer:
    """myst-nb mime-render plugin: the site shows nothing of a record.

    A record repeats, as JSON, what its cell has just printed for the reader; in
    the notebook (Jupyter, nbval, ``collect``) it keeps its ``text/plain`` line
    and its JSON bundle, but on the site the record type is preferred over the
    text line (priority 1, lower wins) and rendered as nothing, so each result
    is shown once. Registered in pyproject.toml under the
    ``myst_nb.mime_renderers`` entry point.
    """

    mime_priority_overrides = [("*", MIME_TYPE, 1)]

    @staticmethod
    def handle_mime(renderer, data, inline: bool):
        """Render a record as one empty comment node.

        Not as no node: myst-nb drops a mime type that renders to nothing from the
        bundle before it picks the preferred type, and the text line would show.
        """
        if data.mime_type != MIME_TYPE:
            return None
        from docutils import nodes

        return [nodes.comment("", "")]
