"""Judge a claim part in one framework and print the page's verdict table (chapters 7, 8 and 11).

A thin layer over :mod:`lrlab.verdicts`: :func:`judge` applies
:func:`~lrlab.verdicts.decide` (or, with several named conditions,
:func:`~lrlab.verdicts.decide_conditions`) and :func:`~lrlab.verdicts.survives`,
builds the :class:`~lrlab.verdicts.Verdict` and records it; :func:`table`
returns the rows a chapter prints: framework, effect, noise, threshold, word,
survives ±50 %.
"""

from __future__ import annotations

import pandas as pd

from lrlab import verdicts

__all__ = ["judge", "table"]


def judge(part: str, framework: str, measures: dict, threshold: float, *, rule: str, evidence: str, scope: str,
          seeds: int | None, direction: int = 1, regime: str = "digits", record: bool = True) -> verdicts.Verdict:
    """Return (and record) the verdict of ``part`` in ``framework`` from ``measures = {condition: (effect, noise)}``.

    One condition (any name): the word of :func:`lrlab.verdicts.decide`. Several:
    each is decided alone and :func:`lrlab.verdicts.decide_conditions` combines
    them ("holds only when" names the conditions that hold). The verdict's effect
    and noise are the first condition's; ``robust`` is True when every
    condition's word survives the threshold moved by ±50 %. ``extra`` keeps every
    condition's effect, noise and word.
    """
    words, extra = {}, {}
    measures = {c: (_round(e), _round(n)) for c, (e, n) in measures.items()}  # records print what every CPU prints
    for condition, (effect, noise) in measures.items():
        words[condition] = verdicts.decide(effect, noise, threshold, direction)
        extra[condition] = {"effect": effect, "noise": noise, "word": words[condition],
                            "robust": verdicts.survives(effect, noise, threshold, direction)}
    if len(measures) == 1:
        word, condition = next(iter(words.values())), ""
    else:
        word, condition = verdicts.decide_conditions(words)
    effect, noise = next(iter(measures.values()))
    v = verdicts.Verdict(part=part, framework=framework, word=word, rule=rule, evidence=evidence,
                         effect=float(effect), noise=None if noise is None else float(noise),
                         threshold=float(threshold), robust=all(e["robust"] for e in extra.values()),
                         condition=condition, seeds=seeds, scope=scope, regime=regime,
                         extra=extra if len(measures) > 1 else {})
    return verdicts.record(v) if record else v


def _round(value, digits: int = 4):
    """Return ``value`` rounded to ``digits`` decimals (None stays None)."""
    return None if value is None else round(float(value), digits)


def table(items, fmt=lambda v: f"{v:.3f}") -> pd.DataFrame:
    """Return the verdict table of ``items`` (Verdicts): one row per framework and condition.

    ``fmt`` formats effect, noise and threshold (pass one that prints what
    survives other CPUs); a missing noise prints "exact".
    """
    rows = []
    for v in items:
        conditions = v.extra or {"": {"effect": v.effect, "noise": v.noise, "word": v.text, "robust": v.robust}}
        for condition, c in conditions.items():
            rows.append({"part": v.part, "framework": v.framework, "condition": condition or "-",
                         "effect": fmt(c["effect"]), "noise (seed std)": "exact" if c["noise"] is None
                         else fmt(c["noise"]), "threshold": fmt(v.threshold), "word": c["word"],
                         "survives ±50 %": "yes" if c["robust"] else "no"})
        if v.extra:
            rows.append({"part": v.part, "framework": v.framework, "condition": "verdict", "effect": "",
                         "noise (seed std)": "", "threshold": "", "word": v.text,
                         "survives ±50 %": "yes" if v.robust else "no"})
    return pd.DataFrame(rows)
