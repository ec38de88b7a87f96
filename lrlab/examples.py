"""The "Examples" page: every E row of the seed catalogue, where the book runs it, in which frameworks, what it gives.

A notebook that reproduces a seed example records what it reproduces, one
value per framework it ran in (``tf``, ``torch``; ``sklearn`` for the one
example that has no learning rate to hand to a deep-learning framework)::

    lrlab.record("example:E001-1", {"quantity": "final validation accuracy of the Keras program as written",
                                    "tf": 0.96, "torch": 0.95})

Optional keys: ``"seed"``, the number the seed itself printed (only E004-4
printed one), and ``"note"``, a short remark shown beside the numbers. A value
is a number or a short string (``"116 of 120"``).

This module holds the catalogue of examples (:data:`CATALOGUE`: id, the
example in the book's own words, the frameworks it must run in, and for a
framework-free row the reason) and turns the records found in the executed
notebooks into ``book/examples.md``::

    python -m lrlab.examples            # (re)write book/examples.md from the stored notebooks
    python -m lrlab.examples --check    # exit 1 if the page is stale or a row lacks a framework's record

Chapters that recorded an example under an older name are read through
:data:`DERIVED`: a function that makes the example's values out of that record
(for instance E004-4 out of ``e004_4_tf`` and ``e004_4_torch``). A chapter's own
``example:`` record wins over a derived one. ``make book`` runs the module
after the notebooks; ``tests/test_examples.py`` fails when a row lacks a
record in a framework it must run in, or when the committed page differs from
what the stored notebooks give. The page is never typed by hand.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lrlab.notebooks import title as _notebook_title

__all__ = ["CATALOGUE", "DERIVED", "FRAMEWORK_NAMES", "Example", "ExampleRecord", "build_page", "example_records",
           "gaps", "main", "malformed", "write_page"]

#: the repository's book folder and the page this module writes into it
BOOK = Path(__file__).resolve().parent.parent / "book"
PAGE_NAME = "examples.md"
#: the keys of an example record that name a framework, and how the page names them
FRAMEWORK_NAMES = {"tf": "TensorFlow 2 / Keras 3", "torch": "PyTorch", "sklearn": "scikit-learn"}
BOTH = ("tf", "torch")

_RECORD_NAME = re.compile(r"^example:(E\d{3}-\d+)$")


@dataclass(frozen=True)
class Example:
    """One E row of the seed catalogue: id, the example in the book's words, where it must run."""

    id: str
    seed: str
    text: str
    frameworks: tuple = BOTH
    #: why the row does not run in TensorFlow and PyTorch (only when ``frameworks`` is not both)
    why: str = ""


#: every E row of ``shared/seed-catalogue.md``, in its order, paraphrased (never the seeds' sentences)
CATALOGUE = (
    Example("E000-1", "000", "The plain gradient-descent step w ← w − lr·grad, done by hand and checked against "
                             "the frameworks' SGD."),
    Example("E000-2", "000", "Exponential decay with staircase (TF1's exponential_decay: 0.01, ×0.96 every "
                             "10,000 steps), beside the continuous form."),
    Example("E000-3", "000", "Three ways to set the learning rate: fixed, a linear warmup to a target, and a "
                             "decay when the validation loss reaches a plateau."),
    Example("E000-4", "000", "The momentum update by hand (v ← μv − lr·g, w ← w + v, μ ≈ 0.9), checked against "
                             "the frameworks' SGD with momentum."),
    Example("E000-5", "000", "A grid of five learning rates from 1e-5 to 1e-1 for an SGD classifier trained 10 "
                             "epochs; the best chosen on validation data."),
    Example("E001-1", "001", "Keras: a 64-32-1 network on the synthetic sum task, Adam with a staircase "
                             "exponential decay (0.1, ×0.96 every 100 updates), 100 epochs with 20 % held out; "
                             "accuracy per epoch."),
    Example("E001-2", "001", "PyTorch: the same network, Adam at 0.1 with an exponential decay of 0.96 per "
                             "epoch, 100 full-batch epochs; training loss per epoch."),
    Example("E001-3", "001", "The two programs of seed 001 are not the same experiment; a harmonised pair "
                             "(same split, batches, weights, schedule) in both frameworks."),
    Example("E002-1", "002", "The learning-rate range test: one short run with a rising rate, loss against "
                             "rate."),
    Example("E002-2", "002", "Exponential decay by epochs, lr0 · rate^(epoch / decay_steps)."),
    Example("E002-3", "002", "Step decay: halve the rate every N epochs."),
    Example("E002-4", "002", "The triangular cyclical learning rate."),
    Example("E002-5", "002", "Callbacks: reduce on a plateau of the validation loss, a per-epoch schedule "
                             "function, and their PyTorch counterparts."),
    Example("E002-6", "002", "k-fold cross-validation over a small grid of learning rates."),
    Example("E003-1", "003", "The random-search loop: sample a combination, train, evaluate, repeat, keep the "
                             "best."),
    Example("E003-2", "003", "scikit-learn's grid search over a random forest on make_classification (27 "
                             "combinations), completed with cross-validation and the test accuracy.",
            frameworks=("sklearn",),
            why="a random forest has no learning rate and no TensorFlow or PyTorch counterpart; the seed's "
                "example is scikit-learn's GridSearchCV, run as such"),
    Example("E004-1", "004", "The update rule new_w = old_w − lr·gradient."),
    Example("E004-2", "004", "An epoch-wise learning-rate search: raise the rate after each epoch and compare "
                             "the epochs."),
    Example("E004-3", "004", "Step decay, exponential decay and inverse-time decay lr0 / (1 + k·t)."),
    Example("E004-4", "004", "The golden output: TF1's exponential_decay(0.1, step, 1, 0.99, staircase) on "
                             "(w + 1)² from w = 5, 40 steps of gradient descent, printed step by step."),
)


@dataclass(frozen=True)
class ExampleRecord:
    """What one record (an ``example:`` record, or one derived from an older record) says about an E row."""

    example: str
    notebook: str  # path relative to the book folder, POSIX
    title: str  # the notebook's first heading
    quantity: str | None  # None when the record is malformed (then ``problem`` says why)
    values: dict = field(default_factory=dict)  # framework -> number or short string
    seed: object = None  # the seed's own printed number, where it printed one
    note: str = ""
    source: str = ""  # the record's name
    problem: str = ""


# ----------------------------------------------------------------------------------------
# records written before the example: convention, read as examples
# ----------------------------------------------------------------------------------------
def _gap(value):
    return {fw: v for fw, v in value.items() if fw in BOTH}


_SCHEDULE_GAP = ("largest gap of the learning rate the framework's optimizer used from the numpy formula, "
                 "relative to the peak rate, over every schedule of the chapter")

#: E id -> (record name, function(value) -> {"quantity", framework values, optional "seed"}); records whose
#: chapters predate ``example:`` records. A chapter's own ``example:<id>`` record replaces the derived one.
DERIVED = {
    "E000-2": ("decay_schedules:largest_gap_vs_reference", lambda v: {"quantity": _SCHEDULE_GAP} | _gap(v)),
    "E002-2": ("decay_schedules:largest_gap_vs_reference", lambda v: {"quantity": _SCHEDULE_GAP} | _gap(v)),
    "E002-3": ("decay_schedules:largest_gap_vs_reference", lambda v: {"quantity": _SCHEDULE_GAP} | _gap(v)),
    "E002-4": ("decay_schedules:largest_gap_vs_reference", lambda v: {"quantity": _SCHEDULE_GAP} | _gap(v)),
    "E004-3": ("decay_schedules:largest_gap_vs_reference", lambda v: {"quantity": _SCHEDULE_GAP} | _gap(v)),
    "E000-3": ("decay_schedules:largest_gap_vs_reference", lambda v: {"quantity": _SCHEDULE_GAP} | _gap(v)),
    "E000-5": ("e000_5", lambda v: {"quantity": "best learning rate of the seed's grid (by validation loss)"}
               | {fw: v[fw]["seed_grid_best"] for fw in BOTH if fw in v}),
    "E002-6": ("e002_6_cv", lambda v: {"quantity": "learning rate chosen by k-fold cross-validation"}
               | {fw: v[fw]["choice"] for fw in BOTH if fw in v}),
    "E001-3": ("e001_3:test", lambda v: {"quantity": "test accuracy of the harmonised pair (the 200 rows the "
                                                     "seed drew and never used)"}
               | {fw: v[fw]["accuracy"] for fw in BOTH if fw in v}),
    "E003-2": ("e003_2", lambda v: {"quantity": "test accuracy of the grid's best forest "
                                                f"({v['candidates']} combinations, {v['folds']}-fold CV)",
                                    "sklearn": v["grid"]["test_accuracy"]}),
}

#: E004-4 is made of two records, one per framework (``e004_4_tf``, ``e004_4_torch``)
_E004_4 = re.compile(r"^e004_4_(tf|torch)$")
_E004_4_SEED = "final w -0.9957312 (120 printed values)"


def _e004_4(found: dict) -> dict | None:
    """Return E004-4's values out of the per-framework golden-table records (None if there is none)."""
    if not found:
        return None
    values = {fw: f"final w {v['final_w']}; {v['exact']} of {v['of']} values exact" for fw, v in found.items()}
    return {"quantity": "the seed's printed table reproduced to its last digit (%g)", "seed": _E004_4_SEED} | values


# ----------------------------------------------------------------------------------------
# reading the records
# ----------------------------------------------------------------------------------------
def _parse(example: str, value, **where) -> ExampleRecord:
    """Return the :class:`ExampleRecord` of one record's value; ``quantity`` None with a ``problem`` if malformed."""
    known = set(FRAMEWORK_NAMES) | {"quantity", "seed", "note"}
    if not isinstance(value, dict):
        return ExampleRecord(example, quantity=None, problem=f"expected a dict, got {value!r}", **where)
    extra = sorted(set(value) - known)
    values = {fw: value[fw] for fw in FRAMEWORK_NAMES if fw in value}
    quantity = value.get("quantity")
    bad = [fw for fw, v in values.items() if not isinstance(v, (int, float, str)) or isinstance(v, bool)]
    if extra or bad or not values or not isinstance(quantity, str) or not quantity.strip():
        return ExampleRecord(example, quantity=None, problem=(
            f"malformed record: keys {sorted(value)} (allowed: quantity, seed, note and "
            f"{', '.join(FRAMEWORK_NAMES)}; at least one framework, values numbers or short strings)"), **where)
    return ExampleRecord(example, quantity=" ".join(quantity.split()), values=values, seed=value.get("seed"),
                         note=str(value.get("note", "")), **where)


def example_records(book=BOOK) -> list[ExampleRecord]:
    """Return what the executed notebooks under ``book`` record about each E row, in notebook and cell order.

    ``example:<id>`` records first; then, for each id of :data:`DERIVED` (and
    E004-4) without an ``example:`` record, the one derived from the older record.
    """
    from lrlab.records import collect

    book = Path(book).resolve()
    table = collect(book)
    titles: dict[str, str] = {}
    direct, derived, golden = [], [], {}

    def where(row):
        path = Path(row.notebook)
        rel = path.resolve().relative_to(book).as_posix()
        if rel not in titles:
            titles[rel] = _notebook_title(path)
        return {"notebook": rel, "title": titles[rel], "source": row.name}

    for row in table.itertuples(index=False):
        if row.name.startswith("example:"):
            match = _RECORD_NAME.match(row.name)
            if match is None:
                direct.append(ExampleRecord(row.name[len("example:"):], quantity=None,
                                            problem=f"malformed record name {row.name!r} (expected example:Ennn-k)",
                                            **where(row)))
            else:
                direct.append(_parse(match.group(1), row.value, **where(row)))
            continue
        for example, (name, make) in DERIVED.items():
            if row.name == name:
                try:
                    derived.append(_parse(example, make(row.value), **where(row)))
                except (KeyError, TypeError, AttributeError) as error:
                    derived.append(ExampleRecord(example, quantity=None, problem=f"cannot derive from {name}: "
                                                 f"{error!r}", **where(row)))
        match = _E004_4.match(row.name)
        if match and isinstance(row.value, dict):
            golden.setdefault("where", where(row))
            golden[match.group(1)] = row.value
    if golden:
        place = golden.pop("where")
        derived.append(_parse("E004-4", _e004_4(golden), **place))
    recorded = {r.example for r in direct}
    return direct + [r for r in derived if r.example not in recorded]


# ----------------------------------------------------------------------------------------
# checking
# ----------------------------------------------------------------------------------------
def _by_example(records) -> dict[str, list[ExampleRecord]]:
    grouped: dict[str, list[ExampleRecord]] = {e.id: [] for e in CATALOGUE}
    for rec in records:
        grouped.setdefault(rec.example, []).append(rec)
    return grouped


def gaps(records) -> dict[str, list[str]]:
    """Return {E id: frameworks it must run in that no valid record covers}, catalogue order, complete rows left out."""
    grouped = _by_example(records)
    found = {}
    for example in CATALOGUE:
        covered = {fw for r in grouped[example.id] if r.quantity for fw in r.values}
        lacking = [fw for fw in example.frameworks if fw not in covered]
        if lacking:
            found[example.id] = lacking
    return found


def malformed(records) -> list[ExampleRecord]:
    """Return the records that are not valid example records, or name an E id outside the catalogue."""
    ids = {e.id for e in CATALOGUE}
    return [r for r in records if r.quantity is None or r.example not in ids]


# ----------------------------------------------------------------------------------------
# the page
# ----------------------------------------------------------------------------------------
_ESCAPE = re.compile(r"([\\|*_`\[\]<>$])")


def _md(text) -> str:
    """Return ``text`` with the characters Markdown/MyST would interpret escaped (safe in a table cell)."""
    return _ESCAPE.sub(r"\\\1", str(text))


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _cell_frameworks(example: Example, recs) -> str:
    covered = {fw for r in recs if r.quantity for fw in r.values}
    shown = [FRAMEWORK_NAMES[fw] + ("" if fw in covered else " (no record yet)") for fw in example.frameworks]
    text = ", ".join(shown)
    if example.why:
        text += f" only: {example.why}"
    return _md(text)


def _cell_numbers(recs) -> str:
    parts = []
    for rec in recs:
        if rec.quantity is None:
            parts.append(f"malformed record {rec.source}: {rec.problem}")
            continue
        shown = "; ".join(f"{FRAMEWORK_NAMES[fw]} {_value(v)}" for fw, v in rec.values.items())
        parts.append(f"{rec.quantity}: {shown}" + (f" ({rec.note})" if rec.note else ""))
    return _md(" — ".join(parts)) if parts else "—"


def build_page(records) -> str:
    """Return the Markdown of the "Examples" page for ``records`` (see :func:`example_records`)."""
    grouped = _by_example(records)
    lacking = gaps(records)
    both = sum(1 for e in CATALOGUE if e.frameworks == BOTH and e.id not in lacking)
    lines = [
        "# Examples",
        "",
        "Every runnable example (E row) of the five seed articles, where this book runs it, in which "
        "frameworks, and the number it reproduces. Nothing here is typed: each chapter records what it "
        "reproduced (`lrlab.record(\"example:<id>\", ...)`, one value per framework) and "
        "`python -m lrlab.examples` (run by `make book`) writes this page from the executed notebooks. "
        "Only one seed printed a result of its own (E004-4); its number stands beside ours.",
        "",
        f"{both} of {sum(1 for e in CATALOGUE if e.frameworks == BOTH)} examples that can run in both "
        "TensorFlow and PyTorch have a recorded result in both; "
        + ", ".join(f"{e.id} runs in {', '.join(FRAMEWORK_NAMES[f] for f in e.frameworks)} only"
                    for e in CATALOGUE if e.frameworks != BOTH) + ".",
        "",
        "| example | seed | what the seed shows (our words) | where | frameworks | what it reproduces | "
        "the seed printed |",
        "|---|---|---|---|---|---|---|",
    ]
    for example in CATALOGUE:
        recs = grouped[example.id]
        places = ", ".join(dict.fromkeys(f"[{_md(r.title)}]({r.notebook})" for r in recs)) or "no chapter yet"
        seed = next((r.seed for r in recs if r.seed is not None), None)
        lines.append(f"| {example.id} | {example.seed} | {_md(example.text)} | {places} | "
                     f"{_cell_frameworks(example, recs)} | {_cell_numbers(recs)} | "
                     f"{_md(_value(seed)) if seed is not None else '—'} |")
    bad = malformed(records)
    if bad:
        lines += ["", "## Records that could not be read", ""]
        lines += [f"- [{_md(r.title)}]({r.notebook}): {_md(r.source)}: {_md(r.problem or 'not in the catalogue')}"
                  for r in bad]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_page(book=BOOK, records=None) -> Path:
    """Write ``book/examples.md`` from the stored notebooks (atomically); return its path.

    ``records`` are :func:`example_records` of ``book`` when the caller has read them already.
    """
    from lrlab.notebooks import write_atomically

    book = Path(book)
    path = book / PAGE_NAME
    write_atomically(path, build_page(example_records(book) if records is None else records))
    return path


def main(argv=None) -> int:
    """Write (or with ``--check`` verify) the examples page; return the exit status."""
    from lrlab.notebooks import page_parser, stale_page

    parser = page_parser("python -m lrlab.examples", "Write book/examples.md from the example records of the "
                         "executed notebooks.", "the page is stale or an example lacks a framework's record", BOOK)
    args = parser.parse_args(argv)
    book = Path(args.book)
    records = example_records(book)
    lacking, bad = gaps(records), malformed(records)
    stale = False
    if args.check:
        stale = stale_page(book / PAGE_NAME, build_page(records), "python -m lrlab.examples")
    else:
        print(f"wrote {write_page(book, records)}: {len(CATALOGUE) - len(lacking)} of {len(CATALOGUE)} examples "
              f"recorded in every framework they run in ({len(records)} records)")
    for example, frameworks in lacking.items():
        print(f"{example}: no record in {', '.join(frameworks)}", file=sys.stderr)
    for rec in bad:
        print(f"bad example record in {rec.notebook}: {rec.source}: {rec.problem or 'not in the catalogue'}",
              file=sys.stderr)
    return 1 if args.check and (stale or lacking or bad) else 0


if __name__ == "__main__":
    sys.exit(main())
