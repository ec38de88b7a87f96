"""Shared fixtures (the repository root, the built site) and :func:`write_record_notebook`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the Jupyter Book site from the stored outputs, warnings as errors; return its HTML folder."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going", "--quiet"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, f"site build failed:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    html = ROOT / "_build" / "html"
    assert (html / "index.html").exists()
    return html


def write_record_notebook(path: Path, title: str, records: list[tuple[str, object]], source: str = "lrlab.record(...)"):
    """Write a small executed notebook at ``path``: a title, some prose, and one cell whose outputs are ``records``.

    Each record is ``(name, value)`` as :func:`lrlab.record` displays it (the
    record MIME bundle and its text line), the input of the claims and examples
    page generators (tests/test_claims.py, tests/test_examples.py).
    """
    import nbformat

    from lrlab.records import MIME_TYPE

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\nSome prose."))
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={MIME_TYPE: {"name": name, "value": value},
                                                                  "text/plain": f"recorded {name}"})
                    for name, value in records]
    nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")
