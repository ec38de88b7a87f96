"""The "Examples" page: every E row runs where it should, with a record per framework, and the page is fresh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import write_record_notebook

from lrlab import examples

ROOT = Path(__file__).resolve().parent.parent
#: where the seed catalogue lives: beside the checkout (../shared) or inside it (shared/)
CATALOGUE_PLACES = (ROOT.parent / "shared" / "seed-catalogue.md", ROOT / "shared" / "seed-catalogue.md")
PAGE = ROOT / "book" / examples.PAGE_NAME
IDS = [e.id for e in examples.CATALOGUE]


# ----------------------------------------------------------------------------------------
# the catalogue and the committed page
# ----------------------------------------------------------------------------------------
def test_catalogue_has_the_e_rows_of_the_shared_seed_catalogue():
    found = [path for path in CATALOGUE_PLACES if path.exists()]
    if not found:
        pytest.skip("shared/seed-catalogue.md is not on this machine")
    shared = re.findall(r"^\|\s*(E\d{3}-\d+)\s*\|", found[0].read_text(encoding="utf-8"), re.M)
    assert shared, f"no E rows found in {found[0]}"
    assert IDS == shared, f"lrlab.examples.CATALOGUE lists {IDS}, {found[0]} lists {shared}"


def test_catalogue_has_twenty_rows_all_in_both_frameworks_but_e003_2():
    assert len(IDS) == 20 and len(set(IDS)) == 20
    for example in examples.CATALOGUE:
        if example.id == "E003-2":
            assert example.frameworks == ("sklearn",) and example.why
        else:
            assert example.frameworks == ("tf", "torch") and not example.why, example.id


def test_every_example_has_a_record_in_each_framework_it_should_run_in():
    records = examples.example_records()
    lacking = examples.gaps(records)
    assert not lacking, "examples without a record in a framework they should run in: " + "; ".join(
        f"{eid}: {', '.join(fws)}" for eid, fws in lacking.items())


def test_the_stored_notebooks_hold_only_valid_example_records():
    bad = examples.malformed(examples.example_records())
    assert not bad, [(r.notebook, r.source, r.problem) for r in bad]


def test_the_page_lists_twenty_rows_and_is_what_the_generator_makes():
    text = PAGE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (E\d{3}-\d+) \|", text, re.M)
    assert rows == IDS
    assert text == examples.build_page(examples.example_records()), \
        "book/examples.md is stale: run python -m lrlab.examples"


def test_the_page_is_in_the_table_of_contents_after_the_claims_page():
    toc = [line.strip() for line in (ROOT / "_toc.yml").read_text(encoding="utf-8").splitlines()]
    assert "- file: book/examples" in toc
    assert toc.index("- file: book/examples") == toc.index("- file: book/claims") + 1


# ----------------------------------------------------------------------------------------
# the generator, on a small book made here
# ----------------------------------------------------------------------------------------
def _notebook(path: Path, title: str, records: list[tuple[str, object]]) -> None:
    write_record_notebook(path, title, records, "lrlab.record(...)")


def test_a_direct_record_gives_its_frameworks_numbers_and_link(tmp_path):
    _notebook(tmp_path / "03-x" / "x.ipynb", "Seed one", [
        ("example:E001-1", {"quantity": "final validation accuracy", "tf": 0.96, "torch": 0.955,
                            "note": "as written"})])
    records = examples.example_records(tmp_path)
    assert [(r.example, r.values) for r in records] == [("E001-1", {"tf": 0.96, "torch": 0.955})]
    assert "E001-1" not in examples.gaps(records)
    row = next(line for line in examples.build_page(records).splitlines() if line.startswith("| E001-1 "))
    assert "[Seed one](03-x/x.ipynb)" in row
    assert "TensorFlow 2 / Keras 3 0.96; PyTorch 0.955 (as written)" in row


def test_a_missing_framework_is_a_gap_and_shows_on_the_page(tmp_path):
    _notebook(tmp_path / "a.ipynb", "A", [("example:E000-4", {"quantity": "largest gap", "torch": 0.0})])
    records = examples.example_records(tmp_path)
    lacking = examples.gaps(records)
    assert lacking["E000-4"] == ["tf"]
    assert lacking["E000-1"] == ["tf", "torch"]
    assert "E003-2" in lacking and lacking["E003-2"] == ["sklearn"]
    page = examples.build_page(records)
    assert "TensorFlow 2 / Keras 3 (no record yet), PyTorch |" in page
    assert examples.main(["--book", str(tmp_path), "--check"]) == 1


def test_older_records_are_derived_and_a_direct_record_wins(tmp_path):
    _notebook(tmp_path / "01.ipynb", "Golden", [
        ("e004_4_tf", {"exact": 116, "of": 120, "final_w": "-0.9957312", "max_units_off": 1.0}),
        ("e004_4_torch", {"exact": 114, "of": 120, "final_w": "-0.9957312", "max_units_off": 1.0})])
    _notebook(tmp_path / "05.ipynb", "Grids", [
        ("e000_5", {"tf": {"seed_grid_best": 0.1, "fine_best": 0.56},
                    "torch": {"seed_grid_best": 0.1, "fine_best": 0.56}}),
        ("example:E000-5", {"quantity": "best rate of the seed's grid", "tf": 0.1, "torch": 0.1})])
    _notebook(tmp_path / "06.ipynb", "Forest", [
        ("e003_2", {"candidates": 27, "folds": 5, "grid": {"test_accuracy": 0.88}})])
    records = examples.example_records(tmp_path)
    by_id = {r.example: r for r in records}
    assert by_id["E004-4"].values == {"tf": "final w -0.9957312; 116 of 120 values exact",
                                      "torch": "final w -0.9957312; 114 of 120 values exact"}
    assert by_id["E004-4"].seed.startswith("final w -0.9957312")
    assert [r.source for r in records if r.example == "E000-5"] == ["example:E000-5"]
    assert by_id["E003-2"].values == {"sklearn": 0.88}
    lacking = examples.gaps(records)
    assert not {"E004-4", "E000-5", "E003-2"} & set(lacking)
    row = next(line for line in examples.build_page(records).splitlines() if line.startswith("| E004-4 "))
    assert row.rstrip().endswith("final w -0.9957312 (120 printed values) |")


@pytest.mark.parametrize("name, value", [
    ("example:E001-1", "not a dict"),
    ("example:E001-1", {"tf": 0.9}),  # no quantity
    ("example:E001-1", {"quantity": "q"}),  # no framework
    ("example:E001-1", {"quantity": "q", "tf": [1, 2]}),  # not a number or a string
    ("example:E001-1", {"quantity": "q", "tf": 0.9, "jax": 0.9}),  # unknown key
    ("example:E1-1", {"quantity": "q", "tf": 0.9}),  # bad name
    ("example:E009-1", {"quantity": "q", "tf": 0.9}),  # not in the catalogue
])
def test_malformed_records_are_reported_not_counted(tmp_path, name, value):
    _notebook(tmp_path / "a.ipynb", "A", [(name, value)])
    records = examples.example_records(tmp_path)
    assert len(examples.malformed(records)) == 1
    assert "E001-1" in examples.gaps(records)
    assert "## Records that could not be read" in examples.build_page(records)


def test_main_writes_the_page_and_check_passes_when_complete(tmp_path):
    complete = [(f"example:{e.id}", {"quantity": "q"} | {fw: 1.0 for fw in e.frameworks})
                for e in examples.CATALOGUE]
    _notebook(tmp_path / "all.ipynb", "All", complete)
    assert examples.main(["--book", str(tmp_path)]) == 0
    assert (tmp_path / examples.PAGE_NAME).exists()
    assert examples.main(["--book", str(tmp_path), "--check"]) == 0
    (tmp_path / examples.PAGE_NAME).write_text("# hand-edited\n", encoding="utf-8")
    assert examples.main(["--book", str(tmp_path), "--check"]) == 1
