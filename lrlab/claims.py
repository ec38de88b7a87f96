"""The "Claims checked" page: one verdict per claim part, per framework, per regime, read from the notebooks.

A chapter that puts a claim part to an experiment records its verdict with
:func:`lrlab.verdicts.record` (a :class:`lrlab.verdicts.Verdict` under the
record name ``verdict:PART:REGIME:FRAMEWORK``, e.g. ``verdict:C004-1d:digits:torch``;
framework ``none`` for evidence that rests on no training framework). This
module reads those records from the executed notebooks
(:func:`lrlab.records.collect` over ``book/``) and writes ``book/claims.md``
and its figure ``book/claims-grid.png``::

    python -m lrlab.claims            # (re)write the page and, if what it shows changed, the figure
    python -m lrlab.claims --check    # exit 1 if either is stale, a part lacks a verdict or a record is bad

The page has: the 38 parts × 2 frameworks at a glance (a colour grid and a
table with a regime column), the counts by verdict word and the parts where
TensorFlow and PyTorch disagree; each claim with its published figures
(``REFERENCES``, copied from ``shared/references.md``) and a line per part,
framework and regime (word, effect beside seed noise, threshold, whether the
word survives the threshold moved by ±50 %, seeds, chapter), then the part's
rule, scope and evidence; and "Scope and limits", built from the verdicts'
scope fields plus fixed text (``CANNOT_SHOW``).

A part without a verdict is shown as *missing*, so the page can be built at any
time; :func:`missing` lists them and ``--check`` (and ``tests/test_claims.py``)
fails while any is left. A framework-free verdict fills both framework cells.
Records that cannot be used (a name or value that is not a verdict, a part that
is not in :data:`PARTS`, two verdicts for one cell) are listed by
:func:`problems` and at the end of the page. ``make book`` runs this module
after the notebooks; the page is never typed by hand.
"""

from __future__ import annotations

import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lrlab import _claims_data as _data
from lrlab._claims_data import CANNOT_SHOW, Claim, Part
from lrlab._claims_grid import digest as _grid_digest
from lrlab._claims_grid import stored_digest, write_grid
from lrlab.notebooks import title as _notebook_title
from lrlab.verdicts import FRAMEWORK_FREE, NOISE_MULTIPLE, Verdict
from lrlab.verdicts import WORDS as _WORDS

__all__ = ["ANY", "CATALOGUE", "FIGURE_NAME", "FRAMEWORKS", "MISSING", "PAGE_NAME", "PARTS", "REGIMES",
           "REQUIRED_REGIMES", "WORDS", "VerdictRecord", "build_page", "cell", "counts", "disagreements", "grid",
           "main", "missing", "part_regimes", "problems", "regime_changes", "verdict_records", "write_page"]

#: every C row of the seed catalogue (id, seed, the claim in the book's words), in its order
CATALOGUE = _data.CATALOGUE
#: the 38 parts the claims are split into (``shared/seed-catalogue.md``, "The parts of each claim"), in order
PARTS = _data.PARTS
#: the five verdict words (:data:`lrlab.verdicts.WORDS`); "holds only when" is followed by its condition
WORDS = _WORDS
# the published results (copied from shared/references.md) and how each bears on a claim; see _claims_data
REFERENCES = _data.REFERENCES
BEARINGS = _data.BEARINGS

#: the repository's book folder
BOOK = Path(__file__).resolve().parent.parent / "book"
#: the page this module writes into the book folder
PAGE_NAME = "claims.md"
#: the page's figure, beside it (redrawn only when what it shows changes)
FIGURE_NAME = "claims-grid.png"
#: the frameworks every part needs a verdict in (a framework-free verdict counts for both)
FRAMEWORKS = ("tf", "torch")
#: the regimes in page order, with the names the page gives them (any other regime a record names follows,
#: under its own name: chapter 1's toy quadratic, for instance)
REGIMES = {"digits": "digits MLP", "mnist1d": "MNIST-1D"}
#: every part needs a verdict in each framework in at least one regime; a regime listed here is required
#: of every part besides (empty: none is; ``("digits",)`` would make the digits MLP compulsory)
REQUIRED_REGIMES: tuple = ()
#: the regime a part without any verdict is shown under
ANY = "any"
#: how the page shows a part and framework without a verdict, and in the figure a regime the part was not run in
MISSING = "missing"
NOT_RUN = "not run"

_RECORD_NAME = re.compile(r"^verdict:(C\d{3}-\d+[a-z]):([^:]+):([^:]+)$")
_PART_IDS = {p.id: p for p in PARTS}


@dataclass(frozen=True, eq=False)
class VerdictRecord:
    """One ``verdict:`` record found in an executed notebook; ``verdict`` None when it cannot be used.

    Records compare (and hash) by identity: two records of one cell are two records.
    """

    name: str
    notebook: str  # path relative to the book folder, POSIX
    title: str  # the notebook's first heading
    verdict: Verdict | None
    problem: str = ""
    parameters: dict = field(default_factory=dict)

    @property
    def where(self) -> tuple:
        """``(part, regime, framework)`` as the record's name gives them."""
        match = _RECORD_NAME.match(self.name)
        return match.groups() if match else (self.name, "", "")


# ----------------------------------------------------------------------------------------
# reading the records
# ----------------------------------------------------------------------------------------
def _parse(name: str, value) -> tuple[Verdict | None, str]:
    """Return ``(verdict, problem)`` for one record; verdict None (and a problem) when it cannot be used."""
    match = _RECORD_NAME.match(name)
    if match is None:
        return None, f"record name {name!r} is not verdict:PART:REGIME:FRAMEWORK"
    if not isinstance(value, dict):
        return None, f"value {value!r} is not a dict of Verdict fields"
    try:
        verdict = Verdict(**value)
    except TypeError as error:  # a missing or unknown field
        return None, f"value is not a Verdict: {error}"
    except ValueError as error:  # lrlab.params.ParameterError: a bad word, framework or condition
        return None, str(error)
    if (verdict.part, verdict.regime, verdict.framework) != match.groups():
        return None, f"record name {name!r} does not match its value's key {verdict.key!r}"
    if verdict.part not in _PART_IDS:
        return None, f"part {verdict.part!r} is not one of the catalogue's parts"
    if not verdict.rule.strip() or not verdict.evidence.strip():
        return None, "rule and evidence must be non-empty sentences"
    return verdict, ""


def verdict_records(book=BOOK) -> list[VerdictRecord]:
    """Return every ``verdict:`` record in the executed notebooks under ``book``, in notebook and cell order."""
    from lrlab.records import collect

    book = Path(book).resolve()
    titles: dict[str, str] = {}
    found = []
    for row in collect(book).itertuples(index=False):
        if not row.name.startswith("verdict:"):
            continue
        path = Path(row.notebook)
        rel = path.resolve().relative_to(book).as_posix()
        if rel not in titles:
            titles[rel] = _notebook_title(path)
        verdict, problem = _parse(row.name, row.value)
        found.append(VerdictRecord(row.name, rel, titles[rel], verdict, problem, dict(row.parameters)))
    return found


# ----------------------------------------------------------------------------------------
# cells, gaps and problems
# ----------------------------------------------------------------------------------------
def _valid(records) -> dict[tuple, list[VerdictRecord]]:
    by_key: dict[tuple, list[VerdictRecord]] = {}
    for rec in records:
        if rec.verdict is not None:
            v = rec.verdict
            by_key.setdefault((v.part, v.regime, v.framework), []).append(rec)
    return by_key


def cell(records, part: str, regime: str, framework: str) -> VerdictRecord | None:
    """Return the record that fills one cell: the framework's own verdict, else a framework-free one."""
    by_key = _valid(records)
    found = by_key.get((part, regime, framework)) or by_key.get((part, regime, FRAMEWORK_FREE)) or []
    return found[0] if found else None


def _order(regimes) -> list[str]:
    regimes = set(regimes)
    return [g for g in REGIMES if g in regimes] + sorted(regimes - set(REGIMES))


def _regimes(records) -> list[str]:
    """The regimes the page shows: the digits MLP, the required ones, then any other a record names, in order."""
    return _order({"digits", *REQUIRED_REGIMES} | {r.verdict.regime for r in records if r.verdict is not None})


def part_regimes(records, part: str) -> list[str]:
    """Return the regimes in which ``part`` has at least one valid verdict (and the required ones), in page order."""
    return _order({*REQUIRED_REGIMES} | {r.verdict.regime for r in records
                                         if r.verdict is not None and r.verdict.part == part})


def missing(records) -> list[tuple[str, str, str]]:
    """Return ``(part, regime, framework)`` for every verdict the page lacks, in catalogue order.

    A part needs a verdict (its own or a framework-free one; "not testable here"
    counts) in each framework in at least one regime (``regime`` :data:`ANY`),
    and in each of :data:`REQUIRED_REGIMES`.
    """
    gaps = []
    for p in PARTS:
        for fw in FRAMEWORKS:
            filled = [g for g in part_regimes(records, p.id) if cell(records, p.id, g, fw) is not None]
            if not filled:
                gaps.append((p.id, ANY, fw))
            gaps += [(p.id, g, fw) for g in REQUIRED_REGIMES if g not in filled]
    return gaps


def _name(regime: str) -> str:
    return "any regime" if regime == ANY else REGIMES.get(regime, regime)


def problems(records) -> list[VerdictRecord]:
    """Return the records the page cannot use: malformed ones, and every verdict after the first for one key."""
    bad = [r for r in records if r.verdict is None]
    for recs in _valid(records).values():
        for rec in recs[1:]:
            bad.append(VerdictRecord(rec.name, rec.notebook, rec.title, None,
                                     f"a second verdict for {rec.name} (the first is in {recs[0].notebook})",
                                     rec.parameters))
    return bad


def _text(rec: VerdictRecord | None) -> str:
    return MISSING if rec is None else rec.verdict.text


def disagreements(records) -> list[tuple[str, str, str, str]]:
    """Return ``(part, regime, tf verdict, torch verdict)`` where both frameworks have their own, different verdicts."""
    found = []
    for part in PARTS:
        for regime in part_regimes(records, part.id):
            tf, torch = (cell(records, part.id, regime, fw) for fw in FRAMEWORKS)
            if tf is None or torch is None or FRAMEWORK_FREE in (tf.verdict.framework, torch.verdict.framework):
                continue
            if tf.verdict.text != torch.verdict.text:
                found.append((part.id, regime, tf.verdict.text, torch.verdict.text))
    return found


def regime_changes(records, first: str = "digits", second: str = "mnist1d") -> list[tuple]:
    """Return ``(part, framework, word in first, word in second, record in second)`` where a regime changes the word.

    Only parts with a verdict of their own in both regimes for that framework
    count (a framework-free verdict fills a framework's column too). The record
    in ``second`` names the chapter that measured it, and whose text says why.
    """
    found = []
    for part in PARTS:
        for fw in FRAMEWORKS:
            a, b = cell(records, part.id, first, fw), cell(records, part.id, second, fw)
            if a is not None and b is not None and a.verdict.text != b.verdict.text:
                found.append((part.id, fw, a.verdict.text, b.verdict.text, b))
    return found


def counts(records) -> dict[str, dict[str, int]]:
    """Return {word or "missing": {framework: number}}: verdicts per part, regime and framework, and the gaps."""
    table = {w: dict.fromkeys(FRAMEWORKS, 0) for w in (*WORDS, MISSING)}
    for part in PARTS:
        for regime in part_regimes(records, part.id):
            for fw in FRAMEWORKS:
                rec = cell(records, part.id, regime, fw)
                if rec is not None:
                    table[rec.verdict.word][fw] += 1
    for _, _, fw in missing(records):
        table[MISSING][fw] += 1
    return table


def grid(records) -> tuple[list[str], list[str], list[list[tuple[str, bool]]], list[int]]:
    """Return ``(rows, columns, cells, groups)`` for the figure (see ``lrlab._claims_grid.draw``)."""
    regimes, gaps = _regimes(records), set(missing(records))
    columns = [f"{_name(g)}\n{fw}" for g in regimes for fw in FRAMEWORKS]
    rows, cells, groups, last = [], [], [], None
    for i, part in enumerate(PARTS):
        if part.claim != last:
            groups.append(i)
            last = part.claim
        text = part.text if len(part.text) <= 52 else part.text[:51].rstrip() + "…"
        rows.append(f"{part.id}  {text}")
        row = []
        for g in regimes:
            for fw in FRAMEWORKS:
                rec = cell(records, part.id, g, fw)
                if rec is not None:
                    row.append((rec.verdict.word, rec.verdict.framework == FRAMEWORK_FREE))
                else:
                    row.append((MISSING if (part.id, ANY, fw) in gaps or (part.id, g, fw) in gaps else NOT_RUN,
                                False))
        cells.append(row)
    return rows, columns, cells, groups


# ----------------------------------------------------------------------------------------
# the page
# ----------------------------------------------------------------------------------------
_ESCAPE = re.compile(r"([\\|*_`\[\]<>$])")


def _md(text) -> str:
    """Return ``text`` with the characters Markdown/MyST would interpret escaped (safe in a table cell)."""
    return _ESCAPE.sub(r"\\\1", " ".join(str(text).split()))


def _num(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.3g}"
    return _md(x)


def _chapter(rec: VerdictRecord, short: bool = False) -> str:
    folder = rec.notebook.split("/")[0]
    number = re.match(r"^(\d+)-", folder)
    label = f"ch. {int(number.group(1))}" if short and number else rec.title
    return f"[{_md(label)}]({rec.notebook})"


def _shown(rec: VerdictRecord | None, *, framework_free_note=True) -> str:
    if rec is None:
        return f"*{MISSING}*"
    text = f"**{_md(rec.verdict.text)}**"
    if framework_free_note and rec.verdict.framework == FRAMEWORK_FREE:
        text += " (framework-free)"
    return text


def _intro(records) -> list[str]:
    total = len(PARTS) * len(FRAMEWORKS)
    gaps = len({(p, fw) for p, _, fw in missing(records)})
    return [
        "# Claims checked",
        "",
        "Each claim (C row) of the seed catalogue is split into parts, fixed before any experiment ran, and "
        "each part gets its own verdict in each framework, TensorFlow (`tf`) and PyTorch (`torch`), from that "
        "framework's own runs. A chapter states each part's decision rule and threshold before its numbers, "
        "measures, and records the verdict (`lrlab.verdicts.record`); `python -m lrlab.claims` (run by "
        "`make book`) reads those records from the executed notebooks and writes this page. Nothing here is "
        "typed by hand.",
        "",
        "The five words: **holds** (the effect reaches the threshold in the claimed direction and stands out "
        "of the seed noise); **holds only when** a named, measured condition is met; **does not hold** (the "
        "effect stands out of the noise but misses the threshold or points the other way); **inconclusive** "
        f"(the effect lies within {NOISE_MULTIPLE:g} seed-to-seed standard deviations of zero); **not testable "
        "here** (the reason is given). A verdict that rests on no training framework (numpy, scikit-learn, "
        "arithmetic) is *framework-free* and fills both columns. Each verdict belongs to a regime (the data "
        "and model it was measured on: the digits MLP; MNIST-1D later; a chapter's own toy problem); a part "
        f"that no chapter has given a verdict in a framework yet reads *{MISSING}*.",
        "",
        f"{total - gaps} of {total} part × framework pairs ({len(PARTS)} parts, {len(FRAMEWORKS)} frameworks) "
        "have a verdict in at least one regime"
        + (f" and in each of {', '.join(_name(g) for g in REQUIRED_REGIMES)}" if REQUIRED_REGIMES else "") + ".",
        "",
    ]


def _glance_cell(records, part: str, regime: str, fw: str, gaps) -> str:
    rec = cell(records, part, regime, fw)
    if rec is None:
        return f"*{MISSING}*" if (part, ANY, fw) in gaps or (part, regime, fw) in gaps else "— (other regime)"
    return _shown(rec)


def _at_a_glance(records) -> list[str]:
    gaps = set(missing(records))
    lines = [
        "## At a glance",
        "",
        f"```{{figure}} {FIGURE_NAME}",
        ":name: claims-grid",
        ":alt: A grid of coloured cells: one row per claim part, one column per framework and regime, "
        "each cell coloured by its verdict word.",
        "",
        "Every claim part's verdict in each framework and regime (columns). Rules separate the claims; an "
        "asterisk marks a framework-free verdict, which fills both columns; *not run* marks a regime the "
        f"part was not measured in, *{MISSING}* a part with no verdict in that framework at all.",
        "```",
        "",
        "| part | what it says | regime | tf | torch | frameworks |",
        "|---|---|---|---|---|---|",
    ]
    for part in PARTS:
        for g in part_regimes(records, part.id) or [ANY]:
            tf, torch = (cell(records, part.id, g, fw) for fw in FRAMEWORKS)
            if tf is None or torch is None:
                agree = "—"
            elif tf is torch:
                agree = "framework-free"
            else:
                agree = "agree" if tf.verdict.text == torch.verdict.text else "**disagree**"
            lines.append(f"| {part.id} | {_md(part.text)} | {_name(g) if g != ANY else '—'} | "
                         f"{_glance_cell(records, part.id, g, 'tf', gaps)} | "
                         f"{_glance_cell(records, part.id, g, 'torch', gaps)} | {agree} |")
    table = counts(records)
    lines += ["", "### Counts by verdict word", "",
              "Each part counts once per framework and regime it has a verdict in; a framework-free verdict "
              f"counts in both columns; *{MISSING}* counts the parts with no verdict in that framework.", "",
              "| verdict | tf | torch | total |", "|---|---|---|---|"]
    for word, by_fw in table.items():
        shown = f"*{word}*" if word == MISSING else f"**{word}**"
        lines.append(f"| {shown} | {by_fw['tf']} | {by_fw['torch']} | {sum(by_fw.values())} |")
    differ = disagreements(records)
    lines += ["", "### Where TensorFlow and PyTorch disagree", ""]
    if differ:
        lines += ["Each is a finding; the chapter that measured it explains why.", ""]
        lines += [f"- {p} ({_name(g)}): tf **{_md(a)}**, torch **{_md(b)}**" for p, g, a, b in differ]
    else:
        lines.append("Nowhere, among the parts where both frameworks have their own verdict.")
    changed = regime_changes(records)
    lines += ["", f"### Where {_name('digits')} and {_name('mnist1d')} disagree", ""]
    if changed:
        lines += ["The same part, the same framework, another word on the harder data; the linked chapter says "
                  "why, in its verdict section.", ""]
        lines += [f"- {p} ({fw}): {_name('digits')} **{_md(a)}**, {_name('mnist1d')} **{_md(b)}** "
                  f"({_chapter(rec, short=True)})" for p, fw, a, b, rec in changed]
    else:
        lines.append("Nowhere, among the parts measured in both.")
    return lines + [""]


def _bearings(claim: Claim) -> list[str]:
    found = [b for b in BEARINGS if b.claim == claim.id]
    if not found:
        return ["**Published figures.** None of the book's references measures this claim directly.", ""]
    lines = ["**Published figures.**", ""]
    for b in found:
        ref = REFERENCES[b.key]
        lines.append(f"- {{cite:t}}`{ref.key}` ({_md(ref.paper)}): {_md(ref.claims)}. *Figure:* "
                     f"{_md(ref.figure)}. *Bears on {', '.join(b.parts)}:* {_md(b.how)}.")
    return lines + [""]


def _rows(records, part: Part, gaps) -> list[str]:
    """The per-claim table's lines of one part: one per verdict, and one per framework it lacks."""
    lines = []
    for g in part_regimes(records, part.id):
        free = cell(records, part.id, g, FRAMEWORK_FREE)
        own = [(fw, cell(records, part.id, g, fw)) for fw in FRAMEWORKS]
        if free is not None and all(rec is free for _, rec in own):
            own = [("none (both)", free)]
        for fw, rec in own:
            if rec is None:
                if (part.id, g, fw) in gaps:
                    lines.append(f"| {part.id} | {_name(g)} | {fw} | *{MISSING}* | — | — | — | — | — | — |")
                continue
            v = rec.verdict
            lines.append(f"| {part.id} | {_name(g)} | {fw} | {_shown(rec, framework_free_note=False)} | "
                         f"{_num(v.effect)} | {_num(v.noise)} | {_num(v.threshold)} | {_num(v.robust)} | "
                         f"{_num(v.seeds)} | {_chapter(rec, short=True)} |")
    lines += [f"| {part.id} | — | {fw} | *{MISSING}* | — | — | — | — | — | — |" for fw in FRAMEWORKS
              if (part.id, ANY, fw) in gaps]
    return lines


def _same_or_each(recs, attribute: str) -> str:
    values = {}
    for rec in recs:
        values.setdefault(getattr(rec.verdict, attribute), []).append(rec.verdict.framework)
    values.pop("", None)
    if len(values) == 1:
        return _md(next(iter(values)))
    return "; ".join(f"({', '.join(fws)}) {_md(value)}" for value, fws in values.items())


def _sentence(text: str) -> str:
    text = _md(text)
    return text if text.endswith((".", "!", "?")) else text + "."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _filling(records) -> list[VerdictRecord]:
    """The records that fill cells (the first of each key), in record order."""
    first = {id(recs[0]) for recs in _valid(records).values()}
    return [r for r in records if id(r) in first]


def _part_note(records, part: Part) -> str:
    recs = list(dict.fromkeys(rec for g in part_regimes(records, part.id) for fw in FRAMEWORKS
                              if (rec := cell(records, part.id, g, fw)) is not None))
    head = f"- **{part.id}**, *{_md(part.text)}*."
    if not recs:
        return head + " No chapter has recorded a verdict yet."
    rule = _same_or_each(recs, "rule")
    text = [head, f"Rule: {rule}" + ("" if rule.endswith(".") else ".")]
    for g in part_regimes(records, part.id):
        tf, torch = (cell(records, part.id, g, fw) for fw in FRAMEWORKS)
        if tf is not None and torch is not None and tf is not torch and tf.verdict.text != torch.verdict.text:
            text.append(f"**The frameworks disagree** ({_name(g)}: tf {_md(tf.verdict.text)}, torch "
                        f"{_md(torch.verdict.text)}); the chapter explains why.")
    for rec in recs:
        v, run = rec.verdict, ""
        if rec.parameters:
            run = " (run with " + _md(", ".join(f"{k} = {val!r}" for k, val in sorted(rec.parameters.items()))) + ")"
        text.append(f"Evidence ({v.framework}, {_name(v.regime)}){run}: {_sentence(v.evidence)}")
    scope = _same_or_each(recs, "scope")
    text.append(f"Scope: {scope}" + ("" if scope.endswith(".") else ".") if scope else "Scope: not stated.")
    text.append("In " + ", ".join(dict.fromkeys(_chapter(r) for r in recs)) + ".")
    return " ".join(text)


def _claims(records) -> list[str]:
    lines = ["## The claims one by one", "",
             "Each claim with the published figures that bear on it, then a line per part, framework and regime: "
             "the verdict, the effect in the rule's units beside the seed-to-seed standard deviation (*noise*) "
             "and the threshold, whether the same word comes out with the threshold moved by ±50 % "
             "(*±50 %*), the number of seeds, and the chapter; below the table each part's rule, evidence and "
             "scope.", ""]
    for claim in CATALOGUE:
        lines += [f"### {claim.id}", "", f"{_md(claim.text)} (seed {claim.seed})", ""]
        lines += _bearings(claim)
        lines += ["| part | regime | framework | verdict | effect | noise | threshold | ±50 % | seeds | chapter |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        parts = [p for p in PARTS if p.claim == claim.id]
        gaps = set(missing(records))
        for part in parts:
            lines += _rows(records, part, gaps)
        lines += [""] + [_part_note(records, p) for p in parts] + [""]
    return lines


def _scope(records) -> list[str]:
    used = _filling(records)
    lines = ["## Scope and limits", "", "### What the verdicts rest on", ""]
    if not used:
        lines += ["No verdict has been recorded yet.", ""]
    else:
        by_fw = {fw: sum(r.verdict.framework == fw for r in used) for fw in (*FRAMEWORKS, FRAMEWORK_FREE)}
        lines.append(f"- Verdicts recorded: {len(used)} ({by_fw['tf']} tf, {by_fw['torch']} torch, "
                     f"{by_fw[FRAMEWORK_FREE]} framework-free).")
        for g in _order(set(REGIMES) | {r.verdict.regime for r in used}):
            n = sum(r.verdict.regime == g for r in used)
            lines.append(f"- Regime {_name(g)}: {_plural(n, 'verdict')}" + ("" if n else " (not run yet)") + ".")
        seeds = [r.verdict.seeds for r in used if r.verdict.seeds is not None]
        if seeds:
            lines.append(f"- Seeds per verdict: from {min(seeds)} to {max(seeds)}, median "
                         f"{statistics.median(seeds):g}"
                         + (f"; no seed count in {_plural(len(used) - len(seeds), 'verdict')}"
                                                    if len(seeds) < len(used) else "") + ".")
        thin = sorted({r.verdict.key[len("verdict:"):] for r in used
                       if isinstance(r.verdict.effect, (int, float)) and isinstance(r.verdict.noise, (int, float))
                       and r.verdict.noise and abs(r.verdict.effect) <= 3 * r.verdict.noise
                       and (r.verdict.seeds or 0) < 5})
        lines.append("- Effects within 3 seed standard deviations that rest on fewer than 5 seeds: "
                     + (", ".join(thin) if thin else "none") + ".")
        fragile = sorted(r.verdict.key[len("verdict:"):] for r in used if r.verdict.robust is False)
        lines.append("- Verdicts whose word changes with the threshold moved by ±50 %: "
                     + (", ".join(fragile) if fragile else "none") + ".")
        lines += ["", "The scopes the chapters state (data, model, training budget):", "",
                  "| scope | verdicts |", "|---|---|"]
        scopes: dict[str, list[str]] = {}
        for r in used:
            scopes.setdefault(r.verdict.scope or "not stated", []).append(r.verdict.key[len("verdict:"):])
        for scope, keys in scopes.items():
            lines.append(f"| {_md(scope)} | {', '.join(keys)} |")
    lines += ["", "### What this evidence cannot show", ""]
    lines += [f"- {_md(text.format(noise_multiple=f'{NOISE_MULTIPLE:g}'))}" for text in CANNOT_SHOW]
    mnist = REFERENCES["greydanus2024mnist1d"]
    lines += ["", f"The second regime, {{cite:t}}`{mnist.key}`: {_md(mnist.claims)}; published {_md(mnist.figure)}.",
              ""]
    return lines


def build_page(records) -> str:
    """Return the Markdown of the "Claims checked" page for ``records`` (see :func:`verdict_records`)."""
    lines = _intro(records) + _at_a_glance(records) + _claims(records) + _scope(records)
    bad = problems(records)
    if bad:
        lines += ["## Records the page could not use", ""]
        lines += [f"- {_chapter(r)}: `{r.name}`: {_md(r.problem)}" for r in bad]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _figure_stale(book: Path, records) -> bool:
    rows, columns, cells, _ = grid(records)
    return stored_digest(book / FIGURE_NAME) != _grid_digest(rows, columns, cells)


def write_page(book=BOOK, records=None) -> Path:
    """Write ``book/claims.md`` (atomically) and, if what it shows changed, ``book/claims-grid.png``.

    Return the page's path. ``records`` are :func:`verdict_records` of ``book`` when the caller has
    read them already.
    """
    from lrlab.notebooks import write_atomically

    book = Path(book)
    records = verdict_records(book) if records is None else records
    write_grid(book / FIGURE_NAME, *grid(records))
    path = book / PAGE_NAME
    write_atomically(path, build_page(records))
    return path


def main(argv=None) -> int:
    """Write (or with ``--check`` verify) the claims page; return the exit status."""
    from lrlab.notebooks import page_parser, stale_page

    args = page_parser("python -m lrlab.claims", "Write book/claims.md and its figure from the verdict records of "
                       "the executed notebooks.", "the page or figure is stale, a part lacks a verdict, or a record "
                       "cannot be used", BOOK).parse_args(argv)
    book = Path(args.book)
    records = verdict_records(book)
    gaps, bad = missing(records), problems(records)
    stale = False
    if args.check:
        stale = stale_page(book / PAGE_NAME, build_page(records), "python -m lrlab.claims")
        if _figure_stale(book, records):
            print(f"{book / FIGURE_NAME} is stale: run python -m lrlab.claims", file=sys.stderr)
            stale = True
    else:
        total = len(PARTS) * len(FRAMEWORKS)
        print(f"wrote {write_page(book, records)}: {total - len({(p, fw) for p, _, fw in gaps})} of {total} part × "
              f"framework pairs have a verdict ({len(records)} verdict records)")
    if gaps:
        print(f"{len(gaps)} verdicts missing (part:regime:framework): "
              + ", ".join(f"{p}:{g}:{fw}" for p, g, fw in gaps), file=sys.stderr)
    for rec in bad:
        print(f"unusable verdict record in {rec.notebook}: {rec.name}: {rec.problem}", file=sys.stderr)
    return 1 if args.check and (stale or gaps or bad) else 0


if __name__ == "__main__":
    sys.exit(main())
