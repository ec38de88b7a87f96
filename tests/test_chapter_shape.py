"""The chapters read as prose: short code cells, and every figure captioned, numbered and cited.

Measured on the executed notebooks (what the site shows), every chapter:

* no code cell has more than :data:`LONGEST` non-blank lines, and the median code
  cell has at most :data:`MEDIAN`; the parameters cell is left aside (it is the
  chapter's list of knobs, one per line);
* no code line is wider than :data:`WIDTH` characters (ruff's E501 is off for the
  twins because a figure caption lives on its cell's marker line);
* every code cell that draws a figure (a PNG output) carries myst-nb's figure
  metadata (``mystnb: {figure: {caption: ..., name: ...}}``), so the site numbers
  and captions it, and the chapter's prose refers to it by name (``{numref}``); its
  only rich output is the figure (myst-nb would wrap a record or a glued value of the
  same cell in a second figure of the same name).
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(BOOK.glob("*/*.ipynb"))
LONGEST = 20
MEDIAN = 10
WIDTH = 120  # ruff's line length; the twins' cell-marker lines (figure captions) are exempt from E501 alone


def code_cells(path: Path) -> list[dict]:
    """Return the notebook's code cells other than the parameters cell."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])]


def length(cell: dict) -> int:
    """Return the number of non-blank source lines of a cell."""
    return sum(1 for line in "".join(cell["source"]).splitlines() if line.strip())


def draws(cell: dict) -> bool:
    """Return whether the cell's stored outputs include a figure."""
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 16


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_code_cells_are_short(path):
    lengths = [length(c) for c in code_cells(path)]
    too_long = [(i, n) for i, n in enumerate(lengths) if n > LONGEST]
    assert not too_long, f"{path.name}: code cells over {LONGEST} non-blank lines (index, lines): {too_long}"
    assert statistics.median(lengths) <= MEDIAN, f"{path.name}: median code cell {statistics.median(lengths)} lines"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_code_lines_are_narrow(path):
    wide = [line for c in code_cells(path) for line in "".join(c["source"]).splitlines() if len(line) > WIDTH]
    assert not wide, f"{path.name}: code lines over {WIDTH} characters: {wide[:3]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_figure_is_captioned_named_and_cited(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    cited = set(re.findall(r"\{numref\}`(?:[^`<]*<)?([^`>]+)>?`", prose))
    for cell in code_cells(path):
        if not draws(cell):
            continue
        figure = cell["metadata"].get("mystnb", {}).get("figure", {})
        source = "".join(cell["source"]).splitlines()[:1]
        assert figure.get("caption", "").strip(), f"{path.name}: figure without a caption, cell {source}"
        assert figure.get("name"), f"{path.name}: figure without a name, cell {source}"
        assert figure["name"] in cited, f"{path.name}: figure {figure['name']} is never cited with {{numref}}"
        # myst-nb wraps every rich output of the cell in the figure: a record or glue there makes a second target
        rich = [o for o in cell.get("outputs", []) if o["output_type"] in ("display_data", "execute_result")]
        assert len(rich) == 1, f"{path.name}: figure {figure['name']}'s cell has {len(rich)} rich outputs, not one"


def test_figure_names_are_unique_across_the_book():
    names = [c["metadata"]["mystnb"]["figure"]["name"] for p in NOTEBOOKS for c in code_cells(p)
             if c["metadata"].get("mystnb", {}).get("figure", {}).get("name")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
