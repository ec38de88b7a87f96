"""No hand-typed measurement in the prose: a decimal number in a chapter's Markdown is glued, code, maths or marked.

A number the book measures reaches a Markdown cell only through myst-nb's
``glue`` (``{glue:text}`key` ``, ``{glue}`key` ``, ``{glue:md}`key` ``), so a
rerun with other parameters cannot leave the text contradicting the outputs.
This test reads every notebook ``book/*/*.ipynb`` (the file the site renders;
its ``.py`` twin holds the same Markdown) and fails on any **decimal number**
in a Markdown cell that is not covered by one of these conventions:

What counts as a decimal number
    ``0.25``, ``3.5``, ``.5``, ``1,077.5``, scientific ``1e-3`` or ``2.5e-4``,
    and powers of ten written out as text: ``10^-7``, ``10^{-7}``, ``10**-3``,
    ``10⁻⁷``. Integers (``64``, ``1,797``, ``100×``, ``25 %``), years and ids
    (``C004-1d``, ``E004-4``) are never flagged.

Where a decimal is allowed without a marker
    * inside a role's backticks: ``{glue:text}`…` `` (the measured numbers),
      ``{cite:p}`…` ``, ``{doc}`…` `` and every other MyST role;
    * inside inline code ```…``` and code fences: a **parameter** or code
      (``lr = 0.1``, ```target_loss = 0.05```, ``ExponentialDecay(0.1, …)``);
    * inside maths — ``$…$``, ``$$…$$``, ``\\(…\\)``, a ``{math}`` block — a
      **constant or formula** (``$\\mu = 0.9$``, ``$2/L$``). Never put a
      measured number in maths to hide it from this test;
    * in a link's target, a bare URL, an arXiv id (``arXiv:1506.01186``), a
      section sign (``§12.11``) and a version with two dots (``2.16.1``);
    * in a MyST comment (a line starting with ``%``) or an HTML comment: they
      do not render.

Anything else needs a marker
    A MyST comment line, which does not render, on the line before the
    paragraph (or list item, or table) that holds the numbers::

        % typed published: 81.4 3.14 16.21
        Smith reached 81.4 % on CIFAR-10 …; SGDR 3.14 % and 16.21 % test error.

    The grammar is ``% typed KIND: NUMBER NUMBER …`` with KIND one of
    ``parameter``, ``published`` (a published figure, from a paper or the
    seed), ``constant`` (a mathematical or physical constant, a library's
    default); the numbers are written as in the text and separated by spaces
    or ", ". A marker covers those numbers in the block that follows it, up to
    the next blank line. A marker that names a number its block does not hold
    fails too, so markers cannot go stale.

README.md ("Reproducibility", the authoring note) says the same for authors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "book").glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)

KINDS = ("parameter", "published", "constant")
_MARKER = re.compile(r"^\s*%\s*typed\s+(parameter|published(?:\s+figure)?|constant)s?\s*:\s*(.*?)\s*$", re.I)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\{[^}]*\})?\s*(\S*)")
_SKIPPED_DIRECTIVES = {"{math}", "{code}", "{code-block}", "{code-cell}", "{sourcecode}", "{literalinclude}"}

#: what is cut out of a block before numbers are looked for, in this order
_EXEMPT = [
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    re.compile(r"\{\{.*?\}\}", re.S),  # MyST substitutions
    re.compile(r"\{[A-Za-z][\w:.+-]*\}(`+)(.+?)\1", re.S),  # roles: {glue:text}`k`, {cite:p}`k`, {math}`x`
    re.compile(r"(`+)(.+?)\1", re.S),  # inline code: parameters and code
    re.compile(r"\$\$.+?\$\$", re.S),  # display maths on one block
    re.compile(r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+?(?<!\\)\$", re.S),  # inline maths $...$
    re.compile(r"\\\(.+?\\\)", re.S),  # inline maths \(...\)
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<?https?://[^\s>)]+>?"),  # bare URLs
    re.compile(r"arXiv:\s*\d{4}\.\d{4,5}(?:v\d+)?", re.I),  # arXiv ids
    re.compile(r"§\s*\d+(?:\.\d+)*"),  # section numbers
    re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}"),  # versions with two dots or more
]
_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_DECIMAL = re.compile(
    r"(?<![\w.])(?:"
    r"\d[\d,]*\.\d+(?:[eE][-+−]?\d+)?"  # 0.25, 1,077.5, 2.5e-4
    r"|\d+[eE][-+−]?\d+"  # 1e-3, 1e5
    r"|\.\d+"  # .5
    r"|10\s*(?:\^|\*\*)\s*[({]?\s*[-+−]?\d+\s*[)}]?"  # 10^-7, 10^{-7}, 10**-3
    rf"|\d+[⁻⁺]?[{_SUPERSCRIPT}]+"  # 10⁻⁷
    r")"
)


@dataclass(frozen=True)
class Finding:
    """A decimal number typed in a Markdown cell (or a marker naming a number its block lacks)."""

    cell: int  # index of the cell in the notebook
    number: str
    snippet: str
    problem: str = "typed decimal"

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.problem} {self.number!r} in: …{self.snippet}…"


def _blocks(source: str):
    """Yield ``(text, marked numbers, marker text)`` for each block (run of non-blank lines) of prose in ``source``.

    Code fences and maths/code directives are skipped; other directives' bodies
    are prose (their ``:option:`` lines are not). Comment lines (``%``) are
    dropped; a ``% typed`` marker applies to its own block, or to the next block
    if it stands alone.
    """
    lines = source.splitlines()
    fence, skip_fence, pending, block, marks = None, False, [], [], []
    display_maths = False

    def flush():
        nonlocal block, marks, pending
        if block:
            yield "\n".join(block), pending + marks
            pending = []
        elif marks:
            pending = pending + marks
        block, marks = [], []

    for line in lines:
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence) and set(stripped) <= set(fence[0]):
                fence = None
                yield from flush()
            elif not skip_fence and not re.match(r"^\s*:[\w-]+:", line):
                block.append(line)
            continue
        match = _FENCE.match(line)
        if match:
            yield from flush()
            fence = match.group(1)
            directive = match.group(2)
            skip_fence = directive is None or directive in _SKIPPED_DIRECTIVES
            continue
        if display_maths:
            if "$$" in stripped:
                display_maths = False
            continue
        if stripped.startswith("$$") and stripped.count("$$") == 1:
            yield from flush()
            display_maths = True
            continue
        marker = _MARKER.match(line)
        if marker:
            marks += [n for n in re.split(r",?\s+", marker.group(2)) if n]
            continue
        if stripped.startswith("%"):
            continue
        if not stripped:
            yield from flush()
            continue
        block.append(line)
    yield from flush()


def typed_decimals(source: str, cell: int = 0) -> list[Finding]:
    """Return the decimals of one Markdown cell that no convention covers, and markers naming absent numbers."""
    found = []
    for text, marked in _blocks(source):
        cleaned = text
        for pattern in _EXEMPT:
            cleaned = pattern.sub(lambda m: " " * len(m.group(0)), cleaned)
        numbers = [(m.group(0), m.start()) for m in _DECIMAL.finditer(cleaned)]
        present = {n for n, _ in numbers}
        for number, start in numbers:
            if number.strip() in marked:
                continue
            snippet = " ".join(text[max(0, start - 50):start + len(number) + 30].split())
            found.append(Finding(cell, number.strip(), snippet))
        for number in marked:
            if number not in present:
                found.append(Finding(cell, number, " ".join(text[:80].split()),
                                     problem="marker names a number its block does not hold:"))
    return found


def notebook_findings(path: Path) -> list[Finding]:
    """Return the findings of every Markdown cell of the notebook at ``path``."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            found += typed_decimals("".join(source) if isinstance(source, list) else source, index)
    return found


# ----------------------------------------------------------------------------------------
# the book
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_no_typed_decimal_in_the_prose(path):
    found = notebook_findings(path)
    assert not found, (f"{path.relative_to(ROOT)}: {len(found)} decimal numbers typed in the prose (glue them, "
                       "or mark a parameter, published figure or constant; see this test's docstring):\n"
                       + "\n".join(map(str, found)))


# ----------------------------------------------------------------------------------------
# the scanner
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "The best rate was 0.25 on validation.",
    "a gap of -0.020 with seed spread 0.004",
    "stops at 1e-3 and",
    "about 3.5 standard deviations",
    "down to 10^-7 here",
    "down to 10^{-7} here",
    "down to 10⁻⁷ here",
    "a share of .5",
    "reached 81.4 % accuracy",
    "| batch | 0.145 |",
])
def test_a_typed_decimal_is_found(text):
    assert [f.number for f in typed_decimals(text)], text


@pytest.mark.parametrize("text", [
    "Batch 1024 after 10 epochs, 64-32-10 MLP, 1,797 images, in 2017, 25 %, 100×.",
    "It reached {glue:text}`best_lr` and {glue}`gap:.3f` ({cite:p}`smith2017cyclical`).",
    "The default `lr = 0.01` and ```ExponentialDecay(0.1, 100, 0.96)```.",
    "The contraction $q = 1 - 2 \\cdot 0.5$ and $$\\mu = 0.9$$ and \\(0.5\\).",
    "See [the paper](https://arxiv.org/abs/1506.01186), arXiv:1708.07120, §12.11, numpy 2.16.1.",
    "Seed rows C004-1d and E004-4; <!-- 0.5 hidden -->",
    "% a comment: 0.5\nText without decimals.",
    "```python\nlr = 0.1\n```",
    "```{math}\n\\eta = 0.1\n```",
    "$$\n\\eta = 0.1\n$$",
])
def test_exempt_numbers_are_not_found(text):
    assert typed_decimals(text) == [], typed_decimals(text)


def test_directive_bodies_are_prose_but_their_options_are_not():
    text = "```{figure} a.png\n:width: 0.5\n\nA caption with 0.3 in it.\n```"
    assert [f.number for f in typed_decimals(text)] == ["0.3"]


def test_a_marker_covers_its_numbers_in_the_next_block_only():
    text = ("% typed published: 81.4 3.14\nSmith reached 81.4 %; SGDR 3.14 % and 16.21 %.\n\n"
            "Here 81.4 again.")
    assert [f.number for f in typed_decimals(text)] == ["16.21", "81.4"]
    alone = "% typed parameter: 0.05\n\nStop at training loss 0.05."
    assert typed_decimals(alone) == []
    for kind in ("parameter", "published figure", "constant", "constants"):
        assert typed_decimals(f"% typed {kind}: 0.9, 0.999\nBetas 0.9 and 0.999.") == [], kind


def test_a_marker_that_names_an_absent_number_fails():
    found = typed_decimals("% typed published: 0.35\nA rate of 0.3.")
    assert {f.number for f in found} == {"0.3", "0.35"}
    assert any("marker" in f.problem for f in found)
