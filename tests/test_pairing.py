"""Every book notebook has a jupytext py:percent twin, and the two hold the same cells."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def cells(nb):
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def test_the_book_has_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_and_twin_in_sync(notebook):
    twin = notebook.with_suffix(".py")
    assert twin.exists(), f"{notebook.name} has no py:percent twin"
    nb = jupytext.read(notebook)
    assert nb.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"
    assert cells(jupytext.read(twin)) == cells(nb), f"{twin.name} and {notebook.name} differ: run `make sync`"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_has_parameters_and_outputs(notebook):
    nb = jupytext.read(notebook)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell must be tagged 'parameters'"
    assert "frameworks" in code[0].source and "seed" in code[0].source
    assert any(c.get("outputs") for c in code), "no stored outputs: execute it with papermill"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    assert "papermill" not in nb.metadata or "start_time" not in nb.metadata["papermill"], \
        "volatile metadata: run python -m lrlab.notebooks"
