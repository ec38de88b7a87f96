"""The "Claims checked" page: every part has a verdict in each framework, each word is one of five, the page is fresh.

The first tests read the committed notebooks and page; they fail while a
chapter has not yet recorded its parts' verdicts (``lrlab.verdicts.record``).
The rest check the generator on small books made here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import write_record_notebook

from lrlab import claims
from lrlab._claims_grid import stored_digest
from lrlab.verdicts import WORDS

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
#: where the shared files live: beside the checkout (../shared) or inside it (shared/)
SHARED_PLACES = (ROOT.parent / "shared", ROOT / "shared")
PAGE = BOOK / claims.PAGE_NAME
FIGURE = BOOK / claims.FIGURE_NAME
IDS = [c.id for c in claims.CATALOGUE]
PART_IDS = [p.id for p in claims.PARTS]
_PART_ROW = re.compile(r"^\| (C\d{3}-\d[a-z]) \| ([^|]*(?:\\\|[^|]*)*) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$")


def _shared(name: str) -> Path:
    for folder in SHARED_PLACES:
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"shared/{name} is not on this machine")


def _glance(text: str) -> list[tuple[str, str, str, str]]:
    """Return ``(part, regime, tf cell, torch cell)`` for each row of a page's at-a-glance table."""
    section = text.split("## At a glance", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = _PART_ROW.match(line)
        if match:
            rows.append((match.group(1), match.group(3).strip(), match.group(4).strip(), match.group(5).strip()))
    return rows


def _word(cell_text: str) -> str:
    """The verdict word of an at-a-glance cell ("**holds only when k = 4** (framework-free)" -> "holds only when")."""
    inner = re.sub(r"\s*\(framework-free\)$", "", cell_text).strip("*")
    return next((w for w in sorted(WORDS, key=len, reverse=True) if inner == w or inner.startswith(w + " ")),
                inner)


# ----------------------------------------------------------------------------------------
# the fixed tables against the shared files
# ----------------------------------------------------------------------------------------
def test_catalogue_has_the_c_rows_and_the_parts_of_the_shared_seed_catalogue():
    text = _shared("seed-catalogue.md").read_text(encoding="utf-8")
    assert IDS == re.findall(r"^\|\s*(C\d{3}-\d+)\s*\|", text, re.M)
    shared_parts = re.findall(r"^\|\s*(C\d{3}-\d+[a-z])\s*\|\s*(.+?)\s*\|\s*$", text, re.M)
    assert len(shared_parts) == len(claims.PARTS) == 38
    for part, (pid, statement) in zip(claims.PARTS, shared_parts, strict=True):
        assert part.id == pid
        assert part.text == statement.replace("**", ""), pid


def test_every_claim_has_its_parts_and_every_bearing_names_known_parts_and_papers():
    assert sorted({p.claim for p in claims.PARTS}) == sorted(IDS)
    for b in claims.BEARINGS:
        assert b.claim in IDS and b.key in claims.REFERENCES
        assert all(p in PART_IDS and p.startswith(b.claim) for p in b.parts), b


def test_published_figures_are_those_of_the_shared_references():
    text = _shared("references.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| paper")]
    numbers = re.compile(r"\d[\d,.]*\d|\d")
    for ref in claims.REFERENCES.values():
        if not ref.shared:
            continue
        found = [r for r in rows if r.startswith("| " + ref.shared)]  # fastai has two rows
        assert found, f"{ref.key}: no row of references.md starts with {ref.shared!r}"
        ours, theirs = set(numbers.findall(ref.figure + " " + ref.claims)), set(numbers.findall(" ".join(found)))
        assert ours <= theirs, f"{ref.key}: numbers {sorted(ours - theirs)} are not in references.md's row"


def test_every_cited_key_is_in_the_bibliography():
    bib = set(re.findall(r"^@\w+\{([^,]+),", (BOOK / "references.bib").read_text(encoding="utf-8"), re.M))
    assert set(claims.REFERENCES) <= bib, sorted(set(claims.REFERENCES) - bib)


# ----------------------------------------------------------------------------------------
# the committed notebooks and page (these fail until every chapter records its verdicts)
# ----------------------------------------------------------------------------------------
def test_every_part_has_a_verdict_in_each_framework():
    gaps = claims.missing(claims.verdict_records())
    assert not gaps, (f"{len(gaps)} verdicts missing (part:regime:framework; 'not testable here' with its reason "
                      "counts): " + ", ".join(":".join(g) for g in gaps))


def test_the_stored_notebooks_hold_only_usable_verdict_records():
    bad = claims.problems(claims.verdict_records())
    assert not bad, [(r.notebook, r.name, r.problem) for r in bad]


def test_the_page_shows_38_parts_by_2_frameworks_each_with_one_of_the_five_words():
    rows = _glance(PAGE.read_text(encoding="utf-8"))
    assert sorted({r[0] for r in rows}) == sorted(PART_IDS)
    wrong = [(part, regime, cell_text) for part, regime, *cells in rows for cell_text in cells
             if _word(cell_text) not in WORDS and cell_text != "— (other regime)"]
    assert not wrong, (f"{len(wrong)} cells without one of the five words on {PAGE.name}: "
                       + ", ".join(sorted({f"{part} ({text})" for part, _, text in wrong})))


def test_the_page_and_its_figure_are_what_the_generator_makes_from_the_stored_notebooks():
    records = claims.verdict_records()
    assert PAGE.read_text(encoding="utf-8") == claims.build_page(records), \
        "book/claims.md is stale: run python -m lrlab.claims"
    rows, columns, cells, _ = claims.grid(records)
    from lrlab._claims_grid import digest

    assert stored_digest(FIGURE) == digest(rows, columns, cells), \
        "book/claims-grid.png is stale: run python -m lrlab.claims"


# ----------------------------------------------------------------------------------------
# the generator, on small books made here
# ----------------------------------------------------------------------------------------
def _notebook(path: Path, title: str, records: list[tuple[str, object]]) -> None:
    write_record_notebook(path, title, records, "lrlab.verdicts.record(...)")


def _v(part, framework, word, regime="digits", **fields):
    value = {"part": part, "framework": framework, "word": word, "regime": regime,
             "rule": "holds if the gap is >= 0.25 | in val loss", "evidence": "gap 0.4, seed spread 0.05",
             "effect": 0.4, "noise": 0.05, "threshold": 0.25, "robust": True, "seeds": 5,
             "scope": "digits, 64-32-10 MLP, 10 epochs"} | fields
    return f"verdict:{part}:{regime}:{framework}", value


def _all_parts(framework="none", word="not testable here"):
    return [_v(p, framework, word, effect=None, noise=None, threshold=None, robust=None, seeds=None,
               evidence="nothing to run here") for p in PART_IDS]


def test_a_framework_free_verdict_fills_both_cells_and_a_missing_part_is_listed(tmp_path):
    _notebook(tmp_path / "01-a" / "a.ipynb", "Chapter A", [_v("C000-1a", "none", "holds")])
    records = claims.verdict_records(tmp_path)
    assert claims.cell(records, "C000-1a", "digits", "tf") is claims.cell(records, "C000-1a", "digits", "torch")
    gaps = claims.missing(records)
    assert ("C000-1a", claims.ANY, "tf") not in gaps
    assert ("C000-1b", claims.ANY, "tf") in gaps and ("C000-1b", claims.ANY, "torch") in gaps
    assert len(gaps) == 2 * 37
    page = claims.build_page(records)
    rows = {r[0]: r for r in _glance(page)}
    assert rows["C000-1a"][2:] == ("**holds** (framework-free)", "**holds** (framework-free)")
    assert rows["C000-1b"][2:] == ("*missing*", "*missing*")
    assert "| **holds** | 1 | 1 | 2 |" in page and "| *missing* | 37 | 37 | 74 |" in page
    assert "[ch. 1](01-a/a.ipynb)" in page and "[Chapter A](01-a/a.ipynb)" in page


def test_each_framework_has_its_own_verdict_and_a_disagreement_is_shown(tmp_path):
    _notebook(tmp_path / "08-b" / "b.ipynb", "Batch", [
        _v("C000-2a", "tf", "holds"), _v("C000-2a", "torch", "does not hold", effect=-0.3, robust=False),
        _v("C000-3a", "tf", "holds only when", condition="at equal epochs"),
        _v("C000-3a", "torch", "holds only when", condition="at equal epochs"),
    ])
    records = claims.verdict_records(tmp_path)
    assert claims.disagreements(records) == [("C000-2a", "digits", "holds", "does not hold")]
    page = claims.build_page(records)
    rows = {r[0]: r for r in _glance(page)}
    assert rows["C000-2a"][2:] == ("**holds**", "**does not hold**")
    assert rows["C000-3a"][2:] == ("**holds only when at equal epochs**",) * 2
    assert "- C000-2a (digits MLP): tf **holds**, torch **does not hold**" in page
    assert "**The frameworks disagree** (digits MLP: tf holds, torch does not hold)" in page
    # the per-claim line: word, effect, noise, threshold, ±50 %, seeds, chapter
    row = "| C000-2a | digits MLP | torch | **does not hold** | -0.3 | 0.05 | 0.25 | no | 5 | [ch. 8](08-b/b.ipynb) |"
    assert row \
        in page
    assert r"Rule: holds if the gap is \>= 0.25 \| in val loss." in page  # a pipe cannot break the table
    assert "Verdicts whose word changes with the threshold moved by ±50 %: C000-2a:digits:torch." in page
    assert claims.counts(records)["holds only when"] == {"tf": 1, "torch": 1}


def test_each_claim_stands_beside_its_published_figures_and_the_page_has_scope_and_limits(tmp_path):
    _notebook(tmp_path / "x" / "x.ipynb", "X", [_v("C000-2a", "tf", "holds", scope="digits, 3 epochs", seeds=3,
                                                   effect=0.1, noise=0.04)])
    page = claims.build_page(claims.verdict_records(tmp_path))
    claims_part = page.split("## The claims one by one", 1)[1]
    assert [h for h in re.findall(r"^### (C\d{3}-\d+)$", claims_part, re.M)] == IDS
    c0002 = claims_part.split("### C000-2", 1)[1].split("### C000-3", 1)[0]
    assert "{cite:t}`goyal2017accurate`" in c0002 and "8192" in c0002
    scope = page.split("## Scope and limits", 1)[1]
    assert "| digits, 3 epochs | C000-2a:digits:tf |" in scope
    assert "fewer than 5 seeds: C000-2a:digits:tf" in scope
    assert "### What this evidence cannot show" in scope and "{cite:t}`greydanus2024mnist1d`" in scope


def test_another_regime_gets_its_own_row(tmp_path):
    _notebook(tmp_path / "01-q" / "q.ipynb", "Quadratic", [_v("C000-1a", "tf", "holds", regime="quadratic"),
                                                           _v("C000-1a", "torch", "holds", regime="quadratic"),
                                                           _v("C000-1a", "tf", "inconclusive", regime="digits")])
    records = claims.verdict_records(tmp_path)
    assert not [g for g in claims.missing(records) if g[0] == "C000-1a"]
    rows = [r for r in _glance(claims.build_page(records)) if r[0] == "C000-1a"]
    assert rows == [("C000-1a", "digits MLP", "**inconclusive**", "— (other regime)"),
                    ("C000-1a", "quadratic", "**holds**", "**holds**")]
    _, columns, _, _ = claims.grid(records)
    assert columns == ["digits MLP\ntf", "digits MLP\ntorch", "quadratic\ntf", "quadratic\ntorch"]


def test_a_part_whose_word_changes_with_the_regime_is_listed_with_its_chapter(tmp_path):
    _notebook(tmp_path / "08-b" / "b.ipynb", "Batch", [_v("C000-2a", "tf", "does not hold"),
                                                      _v("C000-2a", "torch", "holds")])
    _notebook(tmp_path / "16-m" / "m.ipynb", "MNIST-1D", [_v("C000-2a", "tf", "holds", regime="mnist1d"),
                                                         _v("C000-2a", "torch", "holds", regime="mnist1d")])
    records = claims.verdict_records(tmp_path)
    changed = claims.regime_changes(records)
    assert [(p, fw, a, b) for p, fw, a, b, _ in changed] == [("C000-2a", "tf", "does not hold", "holds")]
    page = claims.build_page(records)
    assert "- C000-2a (tf): digits MLP **does not hold**, MNIST-1D **holds** ([ch. 16](16-m/m.ipynb))" in page


@pytest.mark.parametrize("name, value, problem", [
    ("verdict:C000-1a:digits:tf", {"part": "C000-1a", "framework": "tf", "word": "holds with caveats",
                                    "rule": "r", "evidence": "e"}, "not allowed"),
    ("verdict:C000-1a:digits:tf", {"part": "C000-1a", "framework": "tf", "word": "holds only when",
                                    "rule": "r", "evidence": "e"}, "condition"),
    ("verdict:C000-1a:digits:tf", {"part": "C000-1a", "framework": "torch", "word": "holds",
                                    "rule": "r", "evidence": "e"}, "does not match"),
    ("verdict:C000-1z:digits:tf", {"part": "C000-1z", "framework": "tf", "word": "holds",
                                    "rule": "r", "evidence": "e"}, "not one of the catalogue's parts"),
    ("verdict:C000-1a:digits:tf", {"part": "C000-1a", "framework": "tf", "word": "holds", "rule": "r"},
     "not a Verdict"),
    ("verdict:C000-1a:digits:tf", "holds", "not a dict"),
    ("verdict:C000-1a", {"part": "C000-1a"}, "is not verdict:PART:REGIME:FRAMEWORK"),
    ("verdict:C000-1a:digits:tf", {"part": "C000-1a", "framework": "tf", "word": "holds", "rule": " ",
                                    "evidence": "e"}, "non-empty"),
])
def test_unusable_records_are_flagged_and_fill_no_cell(tmp_path, name, value, problem):
    _notebook(tmp_path / "x" / "x.ipynb", "X", [(name, value)])
    records = claims.verdict_records(tmp_path)
    bad = claims.problems(records)
    assert len(bad) == 1 and problem in bad[0].problem, bad
    assert ("C000-1a", claims.ANY, "tf") in claims.missing(records)
    assert "## Records the page could not use" in claims.build_page(records)


def test_a_second_verdict_for_one_cell_is_a_problem(tmp_path):
    _notebook(tmp_path / "a" / "a.ipynb", "A", [_v("C000-1a", "tf", "holds")])
    _notebook(tmp_path / "b" / "b.ipynb", "B", [_v("C000-1a", "tf", "does not hold")])
    records = claims.verdict_records(tmp_path)
    assert claims.cell(records, "C000-1a", "digits", "tf").notebook == "a/a.ipynb"
    assert [r.notebook for r in claims.problems(records)] == ["b/b.ipynb"]


def test_cli_writes_page_and_figure_and_check_fails_until_every_part_has_a_verdict(tmp_path, capsys):
    _notebook(tmp_path / "a" / "a.ipynb", "A", [_v("C000-1a", "tf", "holds")])
    assert claims.main(["--book", str(tmp_path), "--check"]) == 1  # no page yet
    assert claims.main(["--book", str(tmp_path)]) == 0  # writing never fails on gaps
    assert (tmp_path / claims.PAGE_NAME).read_text() == claims.build_page(claims.verdict_records(tmp_path))
    figure = (tmp_path / claims.FIGURE_NAME).read_bytes()
    assert figure.startswith(b"\x89PNG")
    assert claims.main(["--book", str(tmp_path), "--check"]) == 1  # fresh, but parts lack verdicts
    assert "C000-1a:any:torch" in capsys.readouterr().err
    _notebook(tmp_path / "b" / "b.ipynb", "B", _all_parts()[1:] + [_v("C000-1a", "torch", "holds")])
    assert claims.main(["--book", str(tmp_path), "--check"]) == 1  # stale now
    assert claims.main(["--book", str(tmp_path)]) == 0
    assert claims.main(["--book", str(tmp_path), "--check"]) == 0
    page = (tmp_path / claims.PAGE_NAME).read_text()
    assert "76 of 76 part × framework pairs" in page
    rows = _glance(page)
    assert len(rows) == 38 and all(_word(c) in WORDS for r in rows for c in r[2:])
    # an unchanged grid is not redrawn; a changed one is
    mtime = (tmp_path / claims.FIGURE_NAME).stat().st_mtime_ns
    assert claims.main(["--book", str(tmp_path)]) == 0
    assert (tmp_path / claims.FIGURE_NAME).stat().st_mtime_ns == mtime
    _notebook(tmp_path / "c" / "c.ipynb", "C", [_v("C004-2b", "tf", "does not hold", effect=-1.0)])
    assert claims.main(["--book", str(tmp_path), "--check"]) == 1
    assert claims.main(["--book", str(tmp_path)]) == 0
    assert (tmp_path / claims.FIGURE_NAME).read_bytes() != figure


def test_the_figure_is_the_same_bytes_when_drawn_twice(tmp_path):
    from lrlab._claims_grid import draw

    rows, columns, cells, groups = claims.grid([])
    assert draw(rows, columns, cells, groups) == draw(rows, columns, cells, groups)
