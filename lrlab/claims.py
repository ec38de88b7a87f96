"""The "Claims checked" page: every C row of the seed catalogue, with the verdicts the notebooks recorded.

A notebook that puts a claim to an experiment records its verdict as an output
(CONVENTIONS.md)::

    lrlab.record("claim:C000-4", {"verdict": "holds with caveats", "evidence": "..."})

This module holds the catalogue of claims (:data:`CATALOGUE`: id, the claim in
the book's own words, the seed it comes from) and turns the records found in
the executed notebooks (:func:`lrlab.records.collect` over ``book/``) into the
page ``book/claims.md``::

    python -m lrlab.claims            # (re)write book/claims.md from the stored notebooks
    python -m lrlab.claims --check    # exit 1 if the page is stale or a claim has no verdict

``make book`` runs it after executing the notebooks; ``tests/test_claims.py``
fails when a catalogue row has no verdict or the committed page differs from
what the stored notebooks give now. The page is never typed by hand.

Several records for one claim (a claim tested in two chapters, or in two
parts) are combined by :func:`combine`: "holds" only if every tested part
holds, "does not hold" only if every tested part fails, "holds with caveats"
for any other mix; "not testable here" counts only when it is all there is.
Every record is listed under its claim with a link to the page that made it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CATALOGUE", "Claim", "ClaimRecord", "VERDICTS", "build_page", "claim_records", "combine",
           "main", "malformed", "missing", "unknown", "write_page"]

#: the verdicts a claim record may carry, strongest first
VERDICTS = ("holds", "holds with caveats", "does not hold", "not testable here")

#: the repository's book folder and the page this module writes into it
BOOK = Path(__file__).resolve().parent.parent / "book"
PAGE_NAME = "claims.md"

_RECORD_NAME = re.compile(r"^claim:(C\d{3}-\d+)$")


@dataclass(frozen=True)
class Claim:
    """One C row of the seed catalogue: its id, the claim in the book's words, the seed it comes from."""

    id: str
    seed: str
    text: str


#: every C row of ``shared/seed-catalogue.md``, in its order, paraphrased (never the seeds' sentences)
CATALOGUE = (
    Claim("C000-1", "000", "A learning rate that is too large makes the loss oscillate or diverge; one that is "
                           "too small makes progress slow and can stall it."),
    Claim("C000-2", "000", "Batch size and learning rate have to be tuned together. The seed says both that "
                           "larger batches permit a larger learning rate and that a growing batch may call for "
                           "a smaller one."),
    Claim("C000-3", "000", "Very large batches can end in worse solutions (a generalisation gap) and cost more "
                           "memory."),
    Claim("C000-4", "000", "Momentum makes training less sensitive to the learning rate, permits a larger one "
                           "and damps oscillation."),
    Claim("C001-1", "001", "Step decay, exponential decay and cosine annealing are the standard families for "
                           "lowering the learning rate during training."),
    Claim("C001-2", "001", "Tune with a grid over initial rate, decay rate and decay steps; find the range with "
                           "an LR range test; stop early and keep the best checkpoint; fine-tune a pre-trained "
                           "model with a smaller rate."),
    Claim("C002-1", "002", "Adam is less sensitive to the learning rate than SGD, and AdamW handles weight decay "
                           "better than Adam."),
    Claim("C002-2", "002", "A cyclical learning rate helps training leave local minima and can find the global "
                           "minimum."),
    Claim("C003-1", "003", "Learning rate and batch size are the hyperparameters that matter most; the "
                           "strength of L1/L2 regularisation and Adam's β1 and β2 matter too."),
    Claim("C003-2", "003", "Hyperparameters interact: a higher learning rate may want a smaller batch, and a "
                           "high learning rate together with strong regularisation can hurt."),
    Claim("C003-3", "003", "In a large search space random search finds a good combination sooner than grid "
                           "search; Bayesian optimisation costs more per trial but finds better points."),
    Claim("C003-4", "003", "A framework's default hyperparameters are not always the right ones, and a simple "
                           "grid search is often enough to do better."),
    Claim("C004-1", "004", "Too large a learning rate overshoots, blows up the gradients and makes the loss "
                           "oscillate; too small a one is slow, over-fits easily and gets stuck in local "
                           "optima."),
    Claim("C004-2", "004", "Start at a learning rate between 0.01 and 0.001 and decay it by more than 100x by "
                           "the end of training."),
)


@dataclass(frozen=True)
class ClaimRecord:
    """One ``claim:<id>`` record found in an executed notebook."""

    claim: str
    notebook: str  # path relative to the book folder, POSIX
    title: str  # the notebook's first heading
    verdict: str | None  # None when the record is malformed
    evidence: str
    parameters: dict


# ----------------------------------------------------------------------------------------
# reading the records
# ----------------------------------------------------------------------------------------
def _title(path: Path) -> str:
    """Return the text of the first Markdown heading of the notebook at ``path`` (its file stem if none)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _parse(value):
    """Return ``(verdict, evidence)`` of a record's value; verdict None when it is not a valid claim record."""
    if not isinstance(value, dict):
        return None, f"malformed record (expected a dict with verdict and evidence): {value!r}"
    verdict, evidence = value.get("verdict"), value.get("evidence")
    if verdict not in VERDICTS or not isinstance(evidence, str) or not evidence.strip():
        return None, (f"malformed record: verdict {verdict!r} (allowed: {', '.join(VERDICTS)}), "
                      f"evidence {evidence!r} (expected a non-empty sentence)")
    return verdict, " ".join(evidence.split())


def claim_records(book=BOOK) -> list[ClaimRecord]:
    """Return every ``claim:<id>`` record in the executed notebooks under ``book``, in notebook order.

    Read with :func:`lrlab.records.collect`; notebooks are taken in sorted path
    order and records in cell order, so the page is the same on every machine.
    """
    from lrlab.records import collect

    book = Path(book).resolve()
    table = collect(book)
    titles: dict[str, str] = {}
    found = []
    for row in table.itertuples(index=False):
        match = _RECORD_NAME.match(row.name)
        if not (row.name.startswith("claim:")):
            continue
        path = Path(row.notebook)
        rel = path.resolve().relative_to(book).as_posix()
        if rel not in titles:
            titles[rel] = _title(path)
        if match is None:
            found.append(ClaimRecord(row.name[len("claim:"):], rel, titles[rel], None,
                                     f"malformed record name {row.name!r} (expected claim:Cnnn-k)",
                                     dict(row.parameters)))
            continue
        verdict, evidence = _parse(row.value)
        found.append(ClaimRecord(match.group(1), rel, titles[rel], verdict, evidence, dict(row.parameters)))
    return found


# ----------------------------------------------------------------------------------------
# combining and checking
# ----------------------------------------------------------------------------------------
def combine(verdicts) -> str | None:
    """Return one verdict for a claim from the verdicts of its records (None if there is none).

    "holds" if every tested record holds; "does not hold" if every tested record
    does not; "holds with caveats" for any other mix (part of the claim holds,
    part does not, or a part holds only with caveats). "not testable here" is
    the verdict only when no record could test the claim.
    """
    verdicts = [v for v in verdicts if v is not None]
    tested = {v for v in verdicts if v != "not testable here"}
    if not verdicts:
        return None
    if not tested:
        return "not testable here"
    if len(tested) == 1:
        return tested.pop()
    return "holds with caveats"


def _by_claim(records) -> dict[str, list[ClaimRecord]]:
    grouped: dict[str, list[ClaimRecord]] = {claim.id: [] for claim in CATALOGUE}
    for rec in records:
        grouped.setdefault(rec.claim, []).append(rec)
    return grouped


def missing(records) -> list[str]:
    """Return the catalogue ids that no valid record gives a verdict, in catalogue order."""
    grouped = _by_claim(records)
    return [c.id for c in CATALOGUE if combine(r.verdict for r in grouped[c.id]) is None]


def unknown(records) -> list[ClaimRecord]:
    """Return the records naming a claim id that is not in the catalogue."""
    ids = {c.id for c in CATALOGUE}
    return [r for r in records if r.claim not in ids]


def malformed(records) -> list[ClaimRecord]:
    """Return the records whose name or value is not a valid claim record."""
    return [r for r in records if r.verdict is None]


# ----------------------------------------------------------------------------------------
# the page
# ----------------------------------------------------------------------------------------
_ESCAPE = re.compile(r"([\\|*_`\[\]<>$])")


def _md(text: str) -> str:
    """Return ``text`` with the characters Markdown/MyST would interpret escaped (safe in a table cell)."""
    return _ESCAPE.sub(r"\\\1", text)


def _link(rec: ClaimRecord) -> str:
    return f"[{_md(rec.title)}]({rec.notebook})"


def _parameters(rec: ClaimRecord) -> str:
    if not rec.parameters:
        return ""
    shown = ", ".join(f"{k} = {v!r}" for k, v in sorted(rec.parameters.items()))
    return f" (run with {_md(shown)})"


def build_page(records) -> str:
    """Return the Markdown of the "Claims checked" page for ``records`` (see :func:`claim_records`)."""
    grouped = _by_claim(records)
    lines = [
        "# Claims checked",
        "",
        "Every claim (C row) of the seed catalogue, put to an experiment in this book. The verdicts are not "
        "typed here: each chapter computes its verdict from its own measurements and records it "
        "(`lrlab.record(\"claim:<id>\", ...)`); `python -m lrlab.claims` (run by `make book`) reads those "
        "records from the executed notebooks and writes this page.",
        "",
        "A claim tested in several places has one record per place. Its verdict combines them: *holds* only "
        "if every tested part holds, *does not hold* only if every tested part fails, *holds with caveats* "
        "for any other mix; *not testable here* only when no record could test it. The records themselves "
        "are listed below the table, each with the measured numbers and a link to its experiment.",
        "",
        f"{sum(1 for c in CATALOGUE if combine(r.verdict for r in grouped[c.id]))} of {len(CATALOGUE)} "
        "claims have a verdict.",
        "",
        "| claim | seed | what the seed claims (our words) | verdict | experiments |",
        "|---|---|---|---|---|",
    ]
    for claim in CATALOGUE:
        recs = grouped[claim.id]
        verdict = combine(r.verdict for r in recs)
        places = ", ".join(dict.fromkeys(_link(r) for r in recs)) or "—"
        shown = f"**{verdict}**" if verdict else "**no verdict recorded yet**"
        lines.append(f"| {claim.id} | {claim.seed} | {_md(claim.text)} | {shown} | {places} |")
    lines += ["", "## The records", ""]
    for claim in CATALOGUE:
        recs = grouped[claim.id]
        verdict = combine(r.verdict for r in recs)
        lines += [f"### {claim.id}: {verdict or 'no verdict recorded yet'}", "", f"{_md(claim.text)}", ""]
        if not recs:
            lines += ["No notebook has recorded a verdict on this claim yet.", ""]
        for rec in recs:
            label = rec.verdict or "malformed"
            lines.append(f"- {_link(rec)}{_parameters(rec)}: **{label}**. {_md(rec.evidence)}")
        if recs:
            lines.append("")
    extra = unknown(records)
    if extra:
        lines += ["## Records naming claims that are not in the catalogue", ""]
        lines += [f"- {_link(r)}: claim:{_md(r.claim)}, {_md(r.verdict or 'malformed')}. {_md(r.evidence)}"
                  for r in extra]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_page(book=BOOK) -> Path:
    """Write ``book/claims.md`` from the stored notebooks (atomically); return its path."""
    from lrlab.notebooks import write_atomically

    book = Path(book)
    path = book / PAGE_NAME
    write_atomically(path, build_page(claim_records(book)))
    return path


def main(argv=None) -> int:
    """Write (or with ``--check`` verify) the claims page; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m lrlab.claims",
                                     description="Write book/claims.md from the claim records of the executed "
                                                 "notebooks.")
    parser.add_argument("--book", default=str(BOOK), help="the book folder (default: the repository's book/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the page is stale or a claim has no verdict")
    args = parser.parse_args(argv)
    book = Path(args.book)
    records = claim_records(book)
    page = build_page(records)
    absent, bad, extra = missing(records), malformed(records), unknown(records)
    if args.check:
        path = book / PAGE_NAME
        stale = not path.exists() or path.read_text(encoding="utf-8") != page
        if stale:
            print(f"{path} is stale: run python -m lrlab.claims", file=sys.stderr)
    else:
        stale = False
        print(f"wrote {write_page(book)}: {len(CATALOGUE) - len(absent)} of {len(CATALOGUE)} claims have a verdict "
              f"({len(records)} records)")
    if absent:
        print(f"claims without a verdict: {', '.join(absent)}", file=sys.stderr)
    for rec in bad + extra:
        print(f"bad claim record in {rec.notebook}: claim:{rec.claim}: {rec.evidence}", file=sys.stderr)
    return 1 if args.check and (stale or absent or bad or extra) else 0


if __name__ == "__main__":
    sys.exit(main())
