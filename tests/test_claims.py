"""The "Claims checked" page: every C row has a verdict drawn from the notebooks' records, and the page is fresh."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from lrlab import claims
from lrlab.records import MIME_TYPE

ROOT = Path(__file__).resolve().parent.parent
#: where the seed catalogue lives: beside the checkout (../shared) or inside it (shared/)
CATALOGUE_PLACES = (ROOT.parent / "shared" / "seed-catalogue.md", ROOT / "shared" / "seed-catalogue.md")
PAGE = ROOT / "book" / claims.PAGE_NAME
IDS = [c.id for c in claims.CATALOGUE]


def _page_verdicts(text: str) -> dict[str, str]:
    """Return {claim id: verdict} read from the summary table of a claims page."""
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"C\d{3}-\d+", cells[0]):
            found[cells[0]] = cells[3].strip("*")
    return found


# ----------------------------------------------------------------------------------------
# the committed page
# ----------------------------------------------------------------------------------------
def test_catalogue_has_the_c_rows_of_the_shared_seed_catalogue():
    found = [path for path in CATALOGUE_PLACES if path.exists()]
    if not found:
        pytest.skip("shared/seed-catalogue.md is not on this machine")
    shared = re.findall(r"^\|\s*(C\d{3}-\d+)\s*\|", found[0].read_text(encoding="utf-8"), re.M)
    assert shared, f"no C rows found in {found[0]}"
    assert IDS == shared, f"lrlab.claims.CATALOGUE lists {IDS}, {found[0]} lists {shared}"


def test_every_claim_of_the_catalogue_has_a_verdict_on_the_page():
    verdicts = _page_verdicts(PAGE.read_text(encoding="utf-8"))
    assert list(verdicts) == IDS
    without = [cid for cid, verdict in verdicts.items() if verdict not in claims.VERDICTS]
    assert not without, f"claims without a verdict on {PAGE.name}: {', '.join(without)}"


def test_the_stored_notebooks_hold_only_valid_claim_records():
    records = claims.claim_records()
    assert not claims.malformed(records), [(r.notebook, r.claim, r.evidence) for r in claims.malformed(records)]
    assert not claims.unknown(records), [(r.notebook, r.claim) for r in claims.unknown(records)]


def test_the_page_is_what_the_generator_makes_from_the_stored_notebooks():
    expected = claims.build_page(claims.claim_records())
    assert PAGE.read_text(encoding="utf-8") == expected, "book/claims.md is stale: run python -m lrlab.claims"


# ----------------------------------------------------------------------------------------
# the generator, on a small book made here
# ----------------------------------------------------------------------------------------
def _notebook(path: Path, title: str, records: list[tuple[str, object]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\nSome prose."))
    cell = nbformat.v4.new_code_cell("lrlab.record(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={MIME_TYPE: {"name": name, "value": value},
                                                                  "text/plain": f"recorded {name}"})
                    for name, value in records]
    nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")


@pytest.mark.parametrize("verdicts, combined", [
    ([], None),
    (["holds"], "holds"),
    (["holds", "holds"], "holds"),
    (["does not hold", "does not hold"], "does not hold"),
    (["holds", "does not hold"], "holds with caveats"),
    (["holds", "holds with caveats"], "holds with caveats"),
    (["not testable here"], "not testable here"),
    (["not testable here", "does not hold"], "does not hold"),
    ([None, "holds"], "holds"),
    ([None], None),
])
def test_combine(verdicts, combined):
    assert claims.combine(verdicts) == combined


def test_generator_lists_every_record_with_its_link_and_combined_verdict(tmp_path):
    _notebook(tmp_path / "07-batch" / "batch.ipynb", "Batch size", [
        ("claim:C000-2", {"verdict": "does not hold", "evidence": "lr 0.1 | batch 32: val loss 0.25"}),
        ("not-a-claim", 3),
    ])
    _notebook(tmp_path / "09-reg" / "reg.ipynb", "Regularisation", [
        ("claim:C000-2", {"verdict": "holds", "evidence": "second part"}),
        ("claim:C003-1", {"verdict": "holds", "evidence": "beta_2 matters"}),
    ])
    records = claims.claim_records(tmp_path)
    assert [(r.claim, r.notebook, r.title) for r in records] == [
        ("C000-2", "07-batch/batch.ipynb", "Batch size"), ("C000-2", "09-reg/reg.ipynb", "Regularisation"),
        ("C003-1", "09-reg/reg.ipynb", "Regularisation")]
    page = claims.build_page(records)
    verdicts = _page_verdicts(page)
    assert verdicts["C000-2"] == "holds with caveats"
    assert verdicts["C003-1"] == "holds"
    assert verdicts["C000-1"] == "no verdict recorded yet"
    assert "[Batch size](07-batch/batch.ipynb)" in page and "[Regularisation](09-reg/reg.ipynb)" in page
    assert r"lr 0.1 \| batch 32: val loss 0.25" in page  # a pipe cannot break the table
    assert r"beta\_2 matters" in page
    assert claims.missing(records) == [cid for cid in IDS if cid not in ("C000-2", "C003-1")]
    assert not claims.malformed(records) and not claims.unknown(records)


def test_generator_flags_malformed_and_unknown_records(tmp_path):
    _notebook(tmp_path / "x" / "x.ipynb", "X", [
        ("claim:C000-3", {"verdict": "mostly", "evidence": "numbers"}),
        ("claim:C000-4", "holds"),
        ("claim:C999-1", {"verdict": "holds", "evidence": "numbers"}),
        ("claim:C000-1 part", {"verdict": "holds", "evidence": "numbers"}),
    ])
    records = claims.claim_records(tmp_path)
    assert sorted(r.claim for r in claims.malformed(records)) == ["C000-1 part", "C000-3", "C000-4"]
    assert sorted(r.claim for r in claims.unknown(records)) == ["C000-1 part", "C999-1"]
    assert {"C000-3", "C000-4"} <= set(claims.missing(records))
    page = claims.build_page(records)
    assert _page_verdicts(page)["C000-3"] == "no verdict recorded yet"
    assert "not in the catalogue" in page


def test_cli_writes_the_page_and_check_fails_while_claims_lack_verdicts(tmp_path, capsys):
    _notebook(tmp_path / "a" / "a.ipynb", "A", [("claim:C000-1", {"verdict": "holds", "evidence": "q = 1 - 2 lr"})])
    assert claims.main(["--book", str(tmp_path), "--check"]) == 1  # no page yet
    assert claims.main(["--book", str(tmp_path)]) == 0
    assert (tmp_path / claims.PAGE_NAME).read_text() == claims.build_page(claims.claim_records(tmp_path))
    assert claims.main(["--book", str(tmp_path), "--check"]) == 1  # fresh, but 13 claims lack verdicts
    assert "claims without a verdict: C000-2" in capsys.readouterr().err
    for cid in IDS[1:]:
        _notebook(tmp_path / "b" / f"{cid}.ipynb", cid, [(f"claim:{cid}", {"verdict": "not testable here",
                                                                           "evidence": "nothing to run"})])
    assert claims.main(["--book", str(tmp_path), "--check"]) == 1  # stale now
    assert claims.main(["--book", str(tmp_path)]) == 0
    assert claims.main(["--book", str(tmp_path), "--check"]) == 0
