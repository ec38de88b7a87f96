"""The site builds from the stored outputs with warnings as errors, each notebook once."""

from __future__ import annotations

import re

import pytest
import yaml

pytestmark = pytest.mark.site


def toc_files(root):
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))

    walk(toc.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return files


def test_every_notebook_is_in_the_toc(root):
    listed = set(toc_files(root))
    notebooks = {p.relative_to(root).with_suffix("").as_posix() for p in (root / "book").rglob("*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts}
    assert notebooks <= listed, f"notebooks missing from _toc.yml: {sorted(notebooks - listed)}"


def test_site_builds_each_page_once(root, built_site):
    pages = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html")
                   if p.relative_to(built_site).parts[0] == "book")
    expected = sorted(f"{f}.html" for f in toc_files(root) if f.startswith("book/"))
    assert pages == expected
    for page in pages:
        html = (built_site / page).read_text()
        # a docstring's doctest may show the error it documents; no page may show one of its own
        shown = re.sub(r'<div class="doctest.*?</pre></div>\s*</div>', "", html, flags=re.S)
        assert "Traceback (most recent call last)" not in shown, page


def test_a_record_is_shown_once_as_its_cell_printed_it_not_again_as_json(root, built_site):
    """lrlab.records.RecordMimeRenderer renders a record as nothing; its text line would repeat the cell's table."""
    chapters = [p for p in (built_site / "book").rglob("*.html") if re.match(r"\d\d-", p.parent.name)]
    assert chapters
    stored = sum("recorded verdict:" in p.read_text() for p in (root / "book").rglob("*.ipynb"))
    assert stored > 0, "no notebook holds a verdict record: the check would prove nothing"
    for page in chapters:
        assert not re.search(r"<pre><span></span>recorded ", page.read_text()), page.relative_to(built_site)
