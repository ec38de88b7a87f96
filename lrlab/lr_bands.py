"""Per-seed bands of good learning rates, weight paths and verdict tables: the mechanics of chapters 9, 10 and 12.

The momentum, optimizer and cyclical-LR chapters (C000-4, C002-1, C002-2) judge
claim parts from sweeps over learning rates, one ``fit_many`` call per seed.
Their verdicts need the effect *per seed*, so that its seed-to-seed spread can
be set beside it (:mod:`lrlab.verdicts`):

* :func:`band_edges` — the edges (log10 LR) of the band of good learning rates,
  by the same rule as :func:`lrlab.sensitivity.good_band`;
* :func:`mean_bands` — for each group (momentum, optimizer), the best learning
  rate and the band of good rates of its *mean* curve over the seeds;
* :func:`plot_mean_curves` — each group's mean loss against the learning rate,
  with the seeds' range shaded;
* :func:`seed_bands` — the band's width and edges for every seed of a sweep;
* :func:`mean_std` — the mean and the seed standard deviation of a per-seed effect;
* :class:`WeightTrace` — a ``fit`` callback that keeps the weights after every
  epoch (the path of a full-batch run, update by update);
* :func:`judge` — one part's :class:`~lrlab.verdicts.Verdict` in one framework,
  from one or several named conditions, recorded;
* :func:`table` — the page's verdict table: framework, condition, effect,
  noise, threshold, word, survives ±50 %;
* :class:`Words` — text to glue into the prose (myst-nb ``glue``) without the quotes of a ``str``'s repr;
* :func:`glue_effect` and :func:`verdict_words` — what the verdict prose glues:
  an effect with its seed noise, and a framework's verdicts in one line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import verdicts
from lrlab.callbacks import Callback
from lrlab.params import ParameterError
from lrlab.sensitivity import good_band

__all__ = ["WeightTrace", "Words", "band_edges", "glue_effect", "judge", "mean_bands", "mean_std", "plot_mean_curves",
           "seed_bands", "table", "verdict_words"]

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


def mean_bands(table: pd.DataFrame, by: str, threshold: float, failed_above: float = np.inf,
               order=None) -> pd.DataFrame:
    """Return, for each group ``by`` of a :func:`lrlab.sensitivity.spread` table, its best LR and its band of good LRs.

    ``table`` has one row per group and learning rate with the columns ``by``,
    ``lr``, ``mean``, ``std`` and ``max`` (over the seeds). A grid point where
    some seed ended above ``failed_above`` counts as failed (its mean becomes
    ``inf``: the "> cut" cell of :func:`lrlab.sensitivity.heatmap_text`). Then,
    on the mean curve: ``best lr`` and ``best val loss`` (the smallest mean),
    ``seed std at best``, ``smallest good lr`` and ``largest good lr`` (the grid
    points whose mean is at most ``threshold``; NaN if none) and ``band
    (decades)`` (:func:`lrlab.sensitivity.good_band`). Groups come in
    ``order`` when given, else sorted.

    >>> table = pd.DataFrame({"opt": ["a"] * 3, "lr": [0.01, 0.1, 1.0], "mean": [0.5, 0.1, 0.2],
    ...                       "std": [0.0, 0.01, 0.0], "max": [0.5, 0.1, 3.0]})
    >>> bands = mean_bands(table, "opt", threshold=0.3, failed_above=1.0).round(3)
    >>> bands.to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'opt': 'a', 'best lr': 0.1, 'best val loss': 0.1, 'seed std at best': 0.01, 'smallest good lr': 0.1,
      'largest good lr': 0.1, 'band (decades)': 0.5}]
    """
    rows = []
    for key in order if order is not None else sorted(table[by].unique()):
        part = table[table[by] == key].sort_values("lr")
        mean = part["mean"].where(part["max"] <= failed_above, np.inf)
        i = int(mean.to_numpy().argmin())
        good = part.lr[mean <= threshold]
        rows.append({by: key, "best lr": part.lr.iloc[i], "best val loss": mean.iloc[i],
                     "seed std at best": part["std"].iloc[i], "smallest good lr": good.min(),
                     "largest good lr": good.max(),
                     "band (decades)": good_band(part.lr, mean, threshold, failed_above)})
    return pd.DataFrame(rows)


def plot_mean_curves(table: pd.DataFrame, by: str, *, ax=None, x=None, cap: float = 2.5, label: str = "{}",
                     threshold: float | None = None, order=None):
    """Draw each group's mean loss against the learning rate, its seeds' range (min to max) shaded; return the axes.

    ``table`` is a :func:`lrlab.sensitivity.spread` table (columns ``by``,
    ``lr``, ``mean``, ``min``, ``max``). Group i is drawn in colour ``Ci`` and
    labelled ``label.format(key)``; losses above ``cap`` (and non-finite ones)
    are drawn at ``cap``. ``x(key, part)`` gives other x values than ``part.lr``
    (e.g. momentum's effective step ``lr / (1 - mu)``). ``threshold`` adds a
    dotted grey line (the "good" loss). The x axis is logarithmic.

    >>> table = pd.DataFrame({"mu": [0.0, 0.0], "lr": [0.1, 1.0], "mean": [0.3, 9.0], "min": [0.2, 9.0],
    ...                       "max": [0.4, 9.0]})
    >>> ax = plot_mean_curves(table, "mu", label="mu = {:g}")
    >>> ax.get_legend_handles_labels()[1], ax.lines[0].get_ydata().tolist()
    (['mu = 0'], [0.3, 2.5])
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(8, 4))[1]
    for i, key in enumerate(order if order is not None else sorted(table[by].unique())):
        part = table[table[by] == key].sort_values("lr")
        xs = part.lr if x is None else x(key, part)
        capped = {c: np.where(np.isfinite(part[c]), np.minimum(part[c], cap), cap) for c in ("mean", "min", "max")}
        ax.plot(xs, capped["mean"], "o-", color=f"C{i}", ms=4, label=label.format(key))
        ax.fill_between(xs, capped["min"], capped["max"], color=f"C{i}", alpha=0.2)
    if threshold is not None:
        ax.axhline(threshold, color="grey", ls=":", lw=1)
    ax.set_xscale("log")
    ax.legend(fontsize=8)
    return ax


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


def glue_effect(key: str, framework: str, effect: float, noise: float, digits: int = 2) -> None:
    """Glue an effect as ``{key}_{framework}`` and its seed noise as ``{key}_noise_{framework}``, rounded to ``digits``.

    The verdict prose then reads e.g. ``{glue:text}`c000_4a_torch``` decades
    (seed standard deviation ``{glue:text}`c000_4a_noise_torch```).
    """
    from lrlab.report import glue

    glue(f"{key}_{framework}", round(effect, digits), display=False)
    glue(f"{key}_noise_{framework}", round(noise, digits), display=False)


def verdict_words(items, framework: str) -> Words:
    """Return one framework's verdicts as one line of text: ``"C000-4a: holds; C000-4b: ..."``.

    >>> v = verdicts.Verdict(part="C000-4a", framework="tf", word="holds", rule="r", evidence="e")
    >>> verdict_words([v], "tf")
    C000-4a: holds
    """
    return Words("; ".join(f"{v.part}: {v.text}" for v in items if v.framework == framework))


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
