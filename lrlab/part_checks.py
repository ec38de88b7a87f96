"""From per-seed measurements to recorded verdicts: the mechanics of chapters 13 and 14.

A chapter measures one number per seed (and per framework) for each claim part,
states its rule — "the effect is at least t" or "at most t" — and records one
:class:`lrlab.verdicts.Verdict` per part and framework. This module does the
arithmetic between the two, so the chapters' cells stay short:

* :func:`effect` — the mean and the seed-to-seed standard deviation of a per-seed effect;
* :func:`judge` — the word (:func:`lrlab.verdicts.decide`) and whether it survives the
  threshold moved by ±50 % (:func:`lrlab.verdicts.survives`), for an "at least" or an
  "at most" rule;
* :func:`verdict` — one part's :class:`~lrlab.verdicts.Verdict` from one or several named
  conditions (several: :func:`lrlab.verdicts.decide_conditions` gives "holds only when …"),
  recorded;
* :func:`table` — the page's verdict table: framework, effect, noise, rule, word, robust;
* :func:`words` — each part's verdict words with the frameworks that gave them, for the prose;
* :func:`show_verdicts` — a chapter's closing verdict table, whether the frameworks agree,
  and each part's words glued for the prose.

An "at most t" rule (the claim predicts a small effect, e.g. "the best start lies in
the band": its loss exceeds the best outside the band by at most 10 %) holds when
``effect <= t``, even within the noise (a small effect is what it predicts); above
``t`` it fails, unless the effect is within twice the noise of zero ("inconclusive").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lrlab import verdicts
from lrlab.params import ParameterError, check_choice

__all__ = ["COMPARISONS", "best_cell", "effect", "judge", "run_summary", "show_verdicts", "table", "verdict",
           "words"]

#: how a rule compares the effect with its threshold
COMPARISONS = (">=", "<=")


def effect(values) -> tuple[float, float]:
    """Return ``(mean, std)`` of per-seed ``values`` (sample std, ddof 1; NaN with one value; non-finite kept).

    >>> effect([0.1, 0.3])
    (0.2, 0.1414213562373095)
    """
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ParameterError(f"values = {values!r} is not allowed; expected a non-empty list of per-seed numbers")
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if len(values) > 1 and np.isfinite(values).all() else math.nan
    return mean, std


def _round(value: float) -> float:
    """Return ``value`` to 4 significant digits: what is recorded survives another CPU's last-bit rounding."""
    value = float(value)
    return float(f"{value:.4g}") if math.isfinite(value) else value


def _word(value: float, noise, threshold: float, comparison: str) -> str:
    if comparison == ">=":
        return verdicts.decide(value, noise, threshold, 1)
    if value is None or not math.isfinite(value):
        return "inconclusive"
    if value <= threshold:
        return "holds"
    return "inconclusive" if noise and abs(value) <= verdicts.NOISE_MULTIPLE * noise else "does not hold"


def judge(value: float, noise: float, threshold: float, comparison: str = ">=") -> tuple[str, bool]:
    """Return ``(word, robust)`` for the rule ``value >= threshold`` (or ``<=``), given the seed ``noise``.

    ``">="`` is :func:`lrlab.verdicts.decide`. ``"<="`` (the claim predicts a
    small effect) holds when ``value <= threshold``; above it, the claim fails
    unless the value is within twice the noise of zero (then "inconclusive": it
    cannot be told from no effect at all). ``robust``: the same word with the
    threshold × 0.5 and × 1.5.

    >>> judge(1.6, 0.1, 1.0), judge(0.05, 0.2, 0.1, "<="), judge(0.5, 0.05, 0.1, "<=")
    (('holds', True), ('holds', True), ('does not hold', True))
    """
    comparison = check_choice("comparison", comparison, COMPARISONS)
    noise = None if noise is None or not math.isfinite(noise) else noise
    word = _word(value, noise, threshold, comparison)
    return word, all(_word(value, noise, threshold * f, comparison) == word for f in (0.5, 1.5))


def verdict(part: str, framework: str, measured: dict, *, threshold: float, comparison: str = ">=", rule: str,
            unit: str, seeds: int, scope: str, regime: str = "digits", record: bool = True) -> verdicts.Verdict:
    """Return (and record) one part's verdict in one framework from ``{condition: (effect, noise)}``.

    One condition (its name may be ``""``): the word of :func:`judge`. Several
    (one per optimizer, per learning rate, …): each condition is judged by the
    same rule and :func:`lrlab.verdicts.decide_conditions` combines them — all
    hold: "holds"; some: "holds only when" the ones that do. The verdict's
    ``effect`` and ``noise`` are the first holding condition's (else the first
    condition's); ``robust`` is whether every condition's word survives ±50 %;
    ``extra["conditions"]`` keeps each condition's effect, noise and word.
    Effects and noises are recorded to 4 significant digits (the words are
    decided on the unrounded values).
    """
    if not measured:
        raise ParameterError("measured = {} is not allowed; expected {condition: (effect, noise)}")
    judged = {c: (_round(e), _round(n), *judge(e, n, threshold, comparison)) for c, (e, n) in measured.items()}
    if len(judged) == 1:
        word, condition = next(iter(judged.values()))[2], ""
    else:
        word, condition = verdicts.decide_conditions({c: j[2] for c, j in judged.items()})
    shown = next((c for c, j in judged.items() if j[2] == "holds"), next(iter(judged)))
    e, n = judged[shown][:2]
    evidence = "; ".join(f"{c + ': ' if c else ''}{j[0]:.3g} ± {j[1]:.2g} {unit} ({j[2]})" for c, j in judged.items())
    v = verdicts.Verdict(
        part=part, framework=framework, word=word, rule=rule, evidence=evidence,
        effect=e if math.isfinite(e) else None, noise=n if math.isfinite(n) else None, threshold=threshold,
        robust=all(j[3] for j in judged.values()), condition=condition, seeds=seeds, scope=scope, regime=regime,
        extra={"comparison": comparison, "unit": unit,
               "conditions": {c: {"effect": j[0], "noise": j[1], "word": j[2]} for c, j in judged.items()}})
    return verdicts.record(v) if record else v


def table(found) -> pd.DataFrame:
    """Return the page's verdict table of ``found`` (Verdicts): one row per part, framework and condition."""
    rows = []
    for v in found:
        comparison = v.extra.get("comparison", ">=")
        for condition, c in v.extra.get("conditions", {"": {"effect": v.effect, "noise": v.noise}}).items():
            word = c.get("word", v.word)
            rows.append({"part": v.part, "framework": v.framework, "condition": condition or "-",
                         "effect": f"{c['effect']:.3g}" if c["effect"] is not None else "-",
                         "noise (std)": f"{c['noise']:.2g}" if c["noise"] is not None else "-",
                         "rule": f"{comparison} {v.threshold:g} {v.extra.get('unit', '')}".strip(),
                         "word": word, "verdict": v.text, "survives ±50 %": "yes" if v.robust else "no"})
    return pd.DataFrame(rows)


def run_summary(runs: pd.DataFrame, equal_epochs: int, target_loss: float, skip: int = 5) -> pd.DataFrame:
    """Return one row per ``(lr, seed)`` of a learning-rate sweep's histories: the measures of chapter 13.

    ``runs`` has ``fit``'s columns plus ``lr``, ``seed`` and ``gap`` (val − train
    loss). Columns: ``diverged``; ``final loss`` (inf if diverged); ``loss at E``
    and ``gap at E`` (epoch ``equal_epochs``); ``rising share`` (share of epochs
    after the first ``skip`` whose training loss rose); ``epochs to target``,
    ``gap at target``, ``val loss at target`` (first epoch with training loss <=
    ``target_loss``; NaN if never); ``best val loss``; ``progress`` (decades the
    training loss fell over the second half of the run: log10(loss at the
    middle epoch / final loss); NaN if diverged).
    """
    rows = []
    for (lr, seed), run in runs.groupby(["lr", "seed"]):
        loss, ok = run.loss.to_numpy(), run.status.iloc[-1] == "ok"
        at = run[run.epoch == equal_epochs - 1]
        hit = run[(run.loss <= target_loss) & (run.status == "ok")]
        rows.append({"lr": lr, "seed": seed, "diverged": not ok, "final loss": loss[-1] if ok else math.inf,
                     "loss at E": at.loss.iloc[0] if len(at) else math.inf,
                     "gap at E": at.gap.iloc[0] if len(at) else math.nan,
                     "rising share": float(np.mean(np.diff(loss[skip:]) > 0)) if len(loss) > skip + 1 else math.nan,
                     "epochs to target": hit.epoch.iloc[0] + 1 if len(hit) else math.nan,
                     "gap at target": hit.gap.iloc[0] if len(hit) else math.nan,
                     "val loss at target": hit.val_loss.iloc[0] if len(hit) else math.nan,
                     "best val loss": run.val_loss.min(),
                     "progress": float(np.log10(loss[len(loss) // 2 - 1] / loss[-1])) if ok else math.nan})
    return pd.DataFrame(rows)


def best_cell(means: pd.Series, keep) -> tuple:
    """Return the index of the lowest finite value of ``means`` among the entries whose index ``keep(*index)`` accepts.

    >>> best_cell(pd.Series({(0.1, 1): 0.5, (1.0, 1): 0.2, (1.0, 10): 0.3}), lambda lr, f: f >= 10)
    (1.0, 10)
    """
    candidates = [c for c in means.index if keep(*c) and np.isfinite(means[c])]
    if not candidates:
        raise ParameterError("keep is not allowed: it accepts no cell with a finite value")
    return min(candidates, key=lambda c: means[c])


def words(found) -> dict:
    """Return ``{part: text}``: each part's verdict words with the frameworks that gave them, for the prose.

    Every verdict is in italics, followed by its frameworks, e.g. ``*holds* (tf, torch)``.
    """
    out: dict = {}
    for v in found:
        out.setdefault(v.part, {}).setdefault(v.text, []).append(v.framework)
    return {part: " / ".join(f"*{text}* ({', '.join(fws)})" for text, fws in sorted(texts.items()))
            for part, texts in out.items()}


def show_verdicts(found, order, glue_as: str) -> dict:
    """Print a chapter's closing verdict table and glue each part's words; return ``{part: text}`` (:func:`words`).

    Prints :func:`table` of ``found`` sorted by part (in the order of the list
    ``order``) and framework, without the combined ``verdict`` column, then
    whether the frameworks agree on every part (no part has two different
    texts). Each part's :func:`words` are glued as Markdown under the name
    ``glue_as + part`` (e.g. ``"c13_word_"`` gives ``c13_word_C004-1a``), in
    the order of ``found``, for ``{glue:md}`` in the prose.
    """
    from IPython.display import Markdown

    from lrlab.report import glue

    rank = {part: i for i, part in enumerate(order)}
    ordered = sorted(found, key=lambda v: (rank[v.part], v.framework))
    print(table(ordered).drop(columns="verdict").to_string(index=False))
    texts = words(found)
    print(f"\nthe frameworks agree on every part: {all(' / ' not in t for t in texts.values())}")
    for part, text in texts.items():
        glue(f"{glue_as}{part}", Markdown(text), display=False)
    return texts
