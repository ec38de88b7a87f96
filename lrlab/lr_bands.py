"""Per-seed bands of good learning rates, weight paths and verdict tables: the mechanics of chapters 9, 10 and 12.

The momentum, optimizer and cyclical-LR chapters (C000-4, C002-1, C002-2) judge
claim parts from sweeps over learning rates, one ``fit_many`` call per seed.
Their verdicts need the effect *per seed*, so that its seed-to-seed spread can
be set beside it (:mod:`lrlab.verdicts`):

* :func:`band_edges` — the edges (log10 LR) of the band of good learning rates,
  by the same rule as :func:`lrlab.sensitivity.good_band`;
* :func:`seed_bands` — the band's width and edges for every seed of a sweep;
* :func:`mean_std` — the mean and the seed standard deviation of a per-seed effect;
* :class:`WeightTrace` — a ``fit`` callback that keeps the weights after every
  epoch (the path of a full-batch run, update by update);
* :func:`judge` — one part's :class:`~lrlab.verdicts.Verdict` in one framework,
  from one or several named conditions, recorded;
* :func:`table` — the page's verdict table: framework, condition, effect,
  noise, threshold, word, survives ±50 %;
* :class:`Words` — text to glue into the prose (myst-nb ``glue``) without the quotes of a ``str``'s repr.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import verdicts
from lrlab.callbacks import Callback
from lrlab.params import ParameterError
from lrlab.sensitivity import good_band

__all__ = ["WeightTrace", "Words", "band_edges", "judge", "mean_std", "seed_bands", "table"]

#: decimals kept in a recorded effect, noise or threshold (well above the CPU-rounding level)
RECORD_DIGITS = 3


def band_edges(lrs, losses, threshold: float, failed_above: float = np.inf) -> tuple[float, float]:
    """Return ``(low, high)``: log10 of the smallest and the largest good learning rate (NaN, NaN if none).

    The rule is :func:`lrlab.sensitivity.good_band`'s: between a good and a bad
    grid point the edge is interpolated linearly in ``log10(lr)``, unless the
    bad point diverged or ended above ``failed_above`` — then the edge is the
    last good grid point.

    >>> band_edges([0.01, 0.1, 1.0], [0.5, 0.1, 3.0], threshold=0.3, failed_above=1.0)
    (-1.5, -1.0)
    """
    good_band(lrs, losses, threshold, failed_above)  # checks the arguments
    e = np.log10(np.asarray(lrs, dtype=float))
    losses = np.asarray(losses, dtype=float)
    losses = np.where(losses > failed_above, np.inf, losses)
    good = np.flatnonzero(losses <= threshold)
    if not len(good):
        return float("nan"), float("nan")

    def edge(i, j):  # i good, j its bad neighbour
        if not (np.isfinite(losses[i]) and np.isfinite(losses[j])):
            return e[i]
        return e[i] + (e[j] - e[i]) * (threshold - losses[i]) / (losses[j] - losses[i])

    first, last = good[0], good[-1]
    low = edge(first, first - 1) if first > 0 else e[first]
    high = edge(last, last + 1) if last < len(e) - 1 else e[last]
    return float(low), float(high)


def seed_bands(runs: pd.DataFrame, by, threshold: float, failed_above: float = np.inf,
               value: str = "val_loss") -> pd.DataFrame:
    """Return one row per group ``by`` and ``seed`` of ``runs``: ``band`` (decades), ``low`` and ``high`` (log10 LR).

    ``runs`` has one row per trained model with columns ``lr``, ``seed``,
    ``value`` (``inf`` for a diverged model) and ``by`` (a column name or a
    list). ``threshold`` and ``failed_above`` are those of :func:`band_edges`,
    with one addition: a grid point (group and LR) where *any* seed ended above
    ``failed_above`` counts as failed for every seed — the cell that
    :func:`lrlab.sensitivity.heatmap_text` prints as "> cut". A run near
    breakdown can end below the cut on one CPU and above it on another; its
    neighbours in the same cell tell that it is such a run.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, "lr", "seed", value] if c not in runs]
    if missing:
        raise ParameterError(f"runs lacks the column(s) {', '.join(missing)}")
    worst = runs.groupby([*by, "lr"])[value].transform("max")
    runs = runs.assign(**{value: runs[value].where(worst <= failed_above, np.inf)})
    rows = []
    for key, part in runs.groupby([*by, "seed"], sort=True):
        part = part.sort_values("lr")
        low, high = band_edges(part.lr, part[value], threshold, failed_above)
        rows.append({**dict(zip([*by, "seed"], key)), "band": good_band(part.lr, part[value], threshold, failed_above),
                     "low": low, "high": high})
    return pd.DataFrame(rows)


def mean_std(values) -> tuple[float, float]:
    """Return the mean of a per-seed effect and its seed-to-seed standard deviation (0 for one seed).

    >>> mean_std([0.5, 0.7, 0.6])
    (0.6, 0.1)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or not len(values):
        raise ParameterError("values must be a non-empty list of per-seed effects")
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return round(float(values.mean()), 12), round(std, 12)


class WeightTrace(Callback):
    """A ``fit`` callback that keeps the model's weights after every epoch in :attr:`path` (steps × weights).

    With ``batch_size=None`` an epoch is one update, so ``path[k]`` holds the
    weights after update k, flattened layer by layer (kernel, then bias).
    """

    def on_train_begin(self, trainer, available) -> None:
        super().on_train_begin(trainer, available)
        self._rows = []

    def on_epoch_end(self, trainer, logs: dict) -> None:
        self._rows.append(np.concatenate([np.r_[k.ravel(), b.ravel()] for k, b in trainer.weights()]))

    @property
    def path(self) -> np.ndarray:
        return np.array(self._rows)


class Words:
    """Text whose ``repr`` is the text itself, so that ``{glue:text}`` shows it without quotes.

    >>> Words("holds only when k = 4")
    holds only when k = 4
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise ParameterError(f"text = {text!r} is not allowed; expected a string")
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _round(v):
    return None if v is None else round(float(v), RECORD_DIGITS)


def judge(part: str, framework: str, measures: dict, threshold: float, *, rule: str, evidence: str, scope: str,
          seeds: int | None, direction: int = 1, regime: str = "digits") -> verdicts.Verdict:
    """Return the recorded verdict of ``part`` in ``framework`` from ``measures = {condition: (effect, noise)}``.

    One condition: :func:`lrlab.verdicts.decide`'s word. Several: each is
    decided alone and :func:`lrlab.verdicts.decide_conditions` combines them
    ("holds only when" names the conditions that hold); the verdict's effect and
    noise are then the first condition's and ``extra`` keeps every condition's.
    ``robust``: every condition's word survives the threshold moved by ±50 %.
    ``noise`` None means a deterministic measurement. Effects, noises and the
    threshold are recorded with :data:`RECORD_DIGITS` decimals.
    """
    if not measures:
        raise ParameterError("measures = {} is not allowed; expected {condition: (effect, noise)}")
    words, extra = {}, {}
    for condition, (effect, noise) in measures.items():
        words[condition] = verdicts.decide(effect, noise, threshold, direction)
        extra[condition] = {"effect": _round(effect), "noise": _round(noise), "word": words[condition],
                            "robust": verdicts.survives(effect, noise, threshold, direction)}
    word, condition = (next(iter(words.values())), "") if len(measures) == 1 else verdicts.decide_conditions(words)
    first = next(iter(extra.values()))
    v = verdicts.Verdict(part=part, framework=framework, word=word, rule=rule, evidence=evidence,
                         effect=first["effect"], noise=first["noise"], threshold=_round(threshold),
                         robust=all(c["robust"] for c in extra.values()), condition=condition, seeds=seeds,
                         scope=scope, regime=regime, extra={"conditions": extra} if len(measures) > 1 else {})
    return verdicts.record(v)


def table(items, digits: int = 2) -> pd.DataFrame:
    """Return the verdict table of ``items`` (Verdicts): one row per framework and condition.

    ``verdict`` is the part's verdict (with its condition); ``word`` the word of
    the row's condition alone.

    Effect, noise and threshold are printed with ``digits`` decimals (choose
    what survives other CPUs); a deterministic measurement's noise reads "exact".
    """
    rows = []
    for v in items:
        conditions = v.extra.get("conditions") or {"-": {"effect": v.effect, "noise": v.noise, "word": v.text,
                                                         "robust": v.robust}}
        for condition, c in conditions.items():
            rows.append({"part": v.part, "framework": v.framework, "verdict": v.text, "condition": condition,
                         "effect": "-" if c["effect"] is None else f"{c['effect']:.{digits}f}",
                         "noise (seed std)": "-" if c["effect"] is None else "exact" if c["noise"] is None
                         else f"{c['noise']:.{digits}f}",
                         "threshold": "-" if v.threshold is None else f"{v.threshold:g}",
                         "word": c["word"], "survives ±50 %": {True: "yes", False: "no", None: "-"}[c["robust"]]})
    return pd.DataFrame(rows)
