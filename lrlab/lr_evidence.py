"""Evidence for the verdicts of chapters 1, 2, 4 and 5: "at most" rules, verdict tables, LR curves of native objects.

:func:`lrlab.verdicts.decide` answers claims of the form "the effect is at
least the threshold". Some parts claim the opposite kind of thing — a suggested
learning rate "is good": its loss is *at most* 25 % above the best one. For those,
:func:`at_most` applies :func:`~lrlab.verdicts.decide` to the margin
``bound − effect``: "inconclusive" when the effect cannot be told from the bound
(within twice the seed noise), otherwise "holds" when it lies below it.

>>> at_most(0.05, 0.01, 0.25)
('holds', True)
>>> at_most(0.3, 0.05, 0.25)
('inconclusive', False)
>>> returns_to_top([1.0, 0.5, 0.2, 1.0, 0.4, 1.0])
2

Chapter 4 judges a suggested rate by its *excess* over the best grid rate,
``L_suggested / L_best − 1``, summarised over draws of the initial weights by its
median and a robust spread (:func:`excess_summary`, :func:`excess_text`,
:func:`bound_verdict`); chapter 5 compares two winners on fresh draws by their
paired difference (:func:`paired_difference`, :func:`paired_text`, :func:`difference_verdict`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.params import check_number
from lrlab.verdicts import Verdict, decide, decide_conditions, survives

__all__ = ["at_most", "bound_verdict", "conditions", "difference_verdict", "excess_summary", "excess_text", "keras_lrs",
           "paired_difference", "paired_text", "returns_to_top", "torch_lrs", "verdict_table"]


def at_most(effect: float, noise: float | None, bound: float) -> tuple[str, bool]:
    """Return ``(word, robust)`` for the claim ``effect <= bound``; robust: the same word with ``bound`` × 0.5, × 1.5.

    The rule is :func:`lrlab.verdicts.decide` on the margin ``bound − effect``
    with threshold 0: within twice ``noise`` of the bound the word is
    "inconclusive".
    """
    check_number("bound", bound, low=0, low_open=True)
    word = decide(bound - effect, noise, 0.0)
    return word, all(decide(bound * f - effect, noise, 0.0) == word for f in (0.5, 1.5))


def conditions(effects: dict, threshold: float, direction: int = 1, noise: dict | None = None,
               bound: bool = False) -> tuple[str, str, bool]:
    """Return ``(word, condition, robust)`` from one effect per named condition (``verdicts.decide_conditions``).

    Each condition's word is :func:`lrlab.verdicts.decide` (``effect`` at least
    ``threshold``), or :func:`at_most` when ``bound`` is true (``effect`` at most
    ``threshold``); ``noise`` maps conditions to their seed noise. ``robust``: the
    same word and condition with ``threshold`` × 0.5 and × 1.5.

    >>> conditions({"lr = 1": 1.0, "lr > 1": 5.6e4}, threshold=10)
    ('holds only when', 'lr > 1', True)
    >>> conditions({"exp": 0.05, "linear": 0.9}, threshold=0.25, noise={"exp": 0.01, "linear": 0.1}, bound=True)
    ('holds only when', 'exp', True)
    """
    noise = noise or {}

    def one(e, n, t):
        return at_most(e, n, t)[0] if bound else decide(e, n, t, direction)

    def verdict(t):
        return decide_conditions({c: one(e, noise.get(c), t) for c, e in effects.items()})

    word, condition = verdict(threshold)
    return word, condition, all(verdict(threshold * f) == (word, condition) for f in (0.5, 1.5))


def verdict_table(verdicts, digits: int = 3) -> pd.DataFrame:
    """Return the page's verdict table: one row per verdict with framework, effect, noise, threshold, word, robustness.

    Numbers print with ``digits`` significant digits; a deterministic measurement
    has noise "-".
    """
    def text(value):
        return "-" if value is None else f"{value:.{digits}g}"

    return pd.DataFrame([{"part": v.part, "framework": v.framework, "effect": text(v.effect), "noise": text(v.noise),
                          "threshold": text(v.threshold), "verdict": v.text,
                          "survives ±50 %": "yes" if v.robust else "no"} for v in verdicts])


def returns_to_top(lrs, rel: float = 0.01) -> int:
    """Return how often the LR comes back to the top of its range (within ``rel`` of its first value)."""
    check_number("rel", rel, low=0, high=1, low_open=True, high_open=True)
    lrs = np.asarray(lrs, dtype=float)
    top = lrs >= lrs[0] * (1 - rel)
    return int((top[1:] & ~top[:-1]).sum())


def keras_lrs(schedule, updates: int) -> np.ndarray:
    """Return the LR a Keras ``LearningRateSchedule`` gives updates 0, …, ``updates − 1`` (in float32, as Keras)."""
    return np.array([float(schedule(k)) for k in range(updates)])


def torch_lrs(make_scheduler, updates: int, lr: float) -> np.ndarray:
    """Return the LR a PyTorch scheduler sets for updates 0, 1, …: ``make_scheduler(optimizer)`` on an ``SGD(lr=lr)``.

    The loop is PyTorch's documented one: ``optimizer.step(); scheduler.step()``,
    reading ``param_groups[0]["lr"]`` before each update.
    """
    from lrlab.determinism import configure_torch

    torch = configure_torch()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(updates):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(lrs)


def excess_text(median: float, spread: float) -> str:
    """Return a median excess with its robust spread, ``"+0.20 (0.24)"``; above 1 only ``"> +1"``.

    A median excess above 1 (a loss over twice the best) comes from runs at the
    cliff, whose ends depend on the CPU's last bits; -0.00 prints as +0.00.

    >>> excess_text(0.2, 0.241), excess_text(-0.001, 0.13), excess_text(3.7, 0.5)
    ('+0.20 (0.24)', '+0.00 (0.13)', '> +1')
    """
    return "> +1" if median > 1 else f"{0.0 if abs(median) < 0.005 else median:+.2f} ({spread:.2f})"


def excess_summary(runs: pd.DataFrame, by, value: str = "excess") -> pd.DataFrame:
    """Return per group ``by`` the ``median`` of ``value``, its robust ``spread`` and their :func:`excess_text`.

    The spread is the robust standard deviation, 1.4826 × the median absolute
    deviation (``scipy.stats.median_abs_deviation(scale="normal")``); groups keep
    their order of appearance.

    >>> runs = pd.DataFrame({"rule": ["a"] * 3 + ["b"] * 3, "excess": [0.1, 0.2, 0.3, 2.0, 3.0, 4.0]})
    >>> excess_summary(runs, "rule")[["rule", "median", "excess"]].to_numpy().tolist()
    [['a', 0.2, '+0.20 (0.15)'], ['b', 3.0, '> +1']]
    """
    from scipy.stats import median_abs_deviation

    summary = runs.groupby(by, sort=False)[value].agg(
        median="median", spread=lambda e: median_abs_deviation(e, scale="normal")).reset_index()
    summary["excess"] = [excess_text(m, sd) for m, sd in zip(summary["median"], summary["spread"])]
    return summary


def bound_verdict(part: str, framework: str, summary: pd.DataFrame, bound: float, *, condition: str, label: str,
                  rule: str, scope: str, seeds: int) -> Verdict:
    """Return the :class:`~lrlab.verdicts.Verdict` that each condition's median is at most ``bound``.

    ``summary`` has one row per condition (column ``condition``) with the
    ``median`` and ``spread`` of :func:`excess_summary`. The word comes from
    :func:`conditions` with ``bound=True``; effect and noise are those of the
    condition with the lowest median (2 decimals); the evidence lists every
    condition's :func:`excess_text` after ``label``.
    """
    rows = summary.set_index(condition)
    word, where, robust = conditions(rows["median"].to_dict(), bound, noise=rows["spread"].to_dict(), bound=True)
    pick = rows["median"].idxmin()
    evidence = f"{label}: " + "; ".join(f"{c}: {excess_text(m, sd)}"
                                        for c, m, sd in zip(rows.index, rows["median"], rows["spread"]))
    return Verdict(part=part, framework=framework, word=word, condition=where, robust=robust, threshold=bound,
                   effect=round(float(rows["median"][pick]), 2), noise=round(float(rows["spread"][pick]), 2),
                   seeds=seeds, rule=rule, evidence=evidence, scope=scope)


def paired_difference(schedule, constant, draws) -> pd.DataFrame:
    """Return one row per draw: a schedule's and a constant rate's final losses, and ``constant − schedule``.

    A positive ``difference`` means the schedule ended lower than the constant rate (C001-2a).

    >>> paired_difference([0.1, 0.2], [0.3, 0.1], [1, 2]).difference.round(6).tolist()
    [0.2, -0.1]
    """
    table = pd.DataFrame({"draw": list(draws), "schedule": np.asarray(schedule), "constant": np.asarray(constant)})
    table["difference"] = table.constant - table.schedule
    return table


def paired_text(duel: pd.DataFrame, second_label: str) -> str:
    """Return a :func:`paired_difference` in words: each side's mean ± std, the difference per draw, and who won.

    >>> duel = paired_difference([0.1, 0.2], [0.3, 0.1], [1, 2])
    >>> for part in paired_text(duel, "constant rate 0.5").split("; "):
    ...     print(part)
    schedule 0.150 ± 0.071, constant rate 0.5: 0.200 ± 0.141
    difference per draw +0.050 ± 0.212 (constant better on 1 of 2 draws)
    """
    d = duel
    return (f"schedule {d.schedule.mean():.3f} ± {d.schedule.std():.3f}, {second_label}: {d.constant.mean():.3f} ± "
            f"{d.constant.std():.3f}; difference per draw {d.difference.mean():+.3f} ± {d.difference.std():.3f} "
            f"(constant better on {int((d.difference < 0).sum())} of {len(d)} draws)")


def difference_verdict(part: str, framework: str, duel: pd.DataFrame, threshold: float, *, chosen: str, rule: str,
                       scope: str) -> Verdict:
    """Return the :class:`~lrlab.verdicts.Verdict` that the schedule beats the constant rate by at least ``threshold``.

    ``duel`` is :func:`paired_difference`'s table. The effect is the mean
    ``difference`` over the draws, the noise its standard deviation (both to 3
    decimals); the word is :func:`lrlab.verdicts.decide`, robust when
    :func:`lrlab.verdicts.survives`. The evidence is ``chosen`` (how the two
    contenders were picked) followed by both means and the difference.
    """
    effect, noise = round(float(duel.difference.mean()), 3), round(float(duel.difference.std()), 3)
    evidence = (f"{chosen}; on {len(duel)} fresh draws the schedule ends at {duel.schedule.mean():.3f}, the constant "
                f"rate at {duel.constant.mean():.3f}; difference {effect:+.3f} ± {noise:.3f}")
    return Verdict(part=part, framework=framework, word=decide(effect, noise, threshold), effect=effect, noise=noise,
                   threshold=threshold, robust=survives(effect, noise, threshold), seeds=len(duel), rule=rule,
                   evidence=evidence, scope=scope)
