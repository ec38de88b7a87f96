"""Reading hyperparameter sweeps: final results per model, spread over seeds, the band of good learning rates.

The interaction chapters (batch size, momentum, optimizers, regularisation,
cyclic and small learning rates: C000-2/3/4, C002-1/2, C003-1/2/4, C004-1/2)
train grids of models with ``fit_many`` (one call per seed) and ask the same
questions of them: where did each model end, how much do seeds disagree, how
wide is the range of learning rates that train well. Framework-free.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from lrlab.params import ParameterError, check_number

__all__ = ["agreement", "final", "good_band", "heatmap_table", "heatmap_text", "spread", "sweep"]


def final(history: pd.DataFrame, epochs: int, **extra) -> pd.DataFrame:
    """Return one row per model of a ``fit_many`` history: its configuration and where it ended.

    Columns: the configuration (``history.attrs["configs"]``: ``lr`` as a float
    when every LR is one, the hyperparameters, ``init_seed``), the ``extra``
    keyword values (e.g. ``seed=3``), ``diverged`` (the model stopped before
    ``epochs`` epochs or its last status is not ``"ok"``), and ``loss`` (mean
    training loss of the last epoch), ``val_loss`` and, when present,
    ``val_accuracy``, all ``inf`` for a diverged model — so that a diverged model
    is never the best and sorts last.
    """
    if "model" not in history or "configs" not in history.attrs:
        raise ParameterError("history is not allowed; expected the DataFrame fit_many returns")
    configs = history.attrs["configs"].set_index("model").copy()
    if "lr" in configs and all(isinstance(v, (int, float)) for v in configs["lr"]):
        configs["lr"] = configs["lr"].astype(float)
    last = history.groupby("model").tail(1).set_index("model").reindex(configs.index)
    ok = (last["status"] == "ok") & (last["epoch"] == epochs - 1)
    out = configs.assign(**extra)
    out["diverged"] = ~ok.to_numpy()
    for column in ("loss", "val_loss", "val_accuracy"):
        if column in last:
            out[column] = last[column].where(ok, np.inf).to_numpy(dtype=float)
    return out.reset_index()


def spread(table: pd.DataFrame, by, value: str) -> pd.DataFrame:
    """Return ``mean``, ``std``, ``min``, ``max`` and ``n`` of ``value`` over the rows of each group ``by``.

    The mean of a group holding a diverged run (``inf``) is ``inf``; its ``std`` is NaN.
    """
    groups = table.groupby(by, sort=True)[value]
    out = pd.DataFrame({"mean": groups.mean(), "std": groups.std(), "min": groups.min(), "max": groups.max(),
                        "n": groups.size()})
    return out.reset_index()


def good_band(lrs, losses, threshold: float, failed_above: float = np.inf) -> float:
    """Return the width, in decades, of the learning rates whose loss is at most ``threshold``.

    ``lrs`` ascending and > 0, ``losses`` their (mean) losses, ``inf`` for a
    diverged run. Where the loss crosses the threshold between two grid points
    the edge is placed by linear interpolation in ``log10(lr)``; next to a
    diverged point, or a point whose loss is above ``failed_above`` (a run near
    breakdown, whose loss depends on the CPU's rounding: :mod:`lrlab.report`),
    the band stops at the last good grid point. Separate good stretches add up.

    >>> round(good_band([0.01, 0.1, 1.0], [0.5, 0.1, 3.0], threshold=0.3, failed_above=1.0), 6)
    0.5
    """
    e = np.log10(np.asarray(lrs, dtype=float))
    losses = np.asarray(losses, dtype=float)
    if e.ndim != 1 or len(e) != len(losses) or np.any(np.diff(e) <= 0):
        raise ParameterError("lrs must be ascending, > 0 and as many as losses")
    threshold = check_number("threshold", threshold)
    if failed_above != np.inf:
        check_number("failed_above", failed_above, low=threshold)
    losses = np.where(losses > failed_above, np.inf, losses)
    good = losses <= threshold
    width = 0.0
    for i in range(len(e) - 1):
        l0, l1 = losses[i], losses[i + 1]
        if good[i] and good[i + 1]:
            width += e[i + 1] - e[i]
        elif good[i] != good[i + 1] and np.isfinite(l0) and np.isfinite(l1):
            width += (e[i + 1] - e[i]) * (threshold - min(l0, l1)) / abs(l1 - l0)
    return float(width)


def heatmap_table(table: pd.DataFrame, rows: str, columns: str, value: str = "mean") -> pd.DataFrame:
    """Return ``table`` pivoted for a heat map: ``rows`` down, ``columns`` across, ``value`` in the cells."""
    return table.pivot(index=rows, columns=columns, values=value).sort_index().sort_index(axis=1)


def heatmap_text(cells: pd.DataFrame, rows: str, columns: str, failed_above: float, digits: int = 3) -> pd.DataFrame:
    """Return :func:`spread`'s ``cells`` pivoted as text that another CPU prints the same.

    A cell shows the mean over seeds when every seed ended at or below
    ``failed_above``; ``"> cut"`` when a seed ended above it (a run near
    breakdown, whose end depends on the last bit: :func:`lrlab.report.loss_text`),
    and ``"diverged"`` when a seed diverged.
    """
    from lrlab.report import loss_text

    means = heatmap_table(cells, rows, columns, "mean")
    worst = heatmap_table(cells, rows, columns, "max")
    shown = means.where(worst <= failed_above, worst)
    return shown.map(lambda v: loss_text(v, failed_above, digits))


def sweep(run: Callable[..., pd.DataFrame], epochs: int, **axes) -> pd.DataFrame:
    """Call ``run(**point)`` for every combination of the ``axes``' values; stack :func:`final` of each history.

    The loop every interaction chapter writes around ``fit_many``: one call per
    seed (and per batch size, ...), each returning a history, each history read
    by :func:`final` and tagged with its point. ``axes`` maps a keyword of
    ``run`` to its values; the rows come out in the order of the product.

    >>> def run(batch, seed):  # a stand-in for one fit_many call
    ...     history = pd.DataFrame({"model": [0], "epoch": [0], "status": ["ok"], "loss": [0.5 / batch],
    ...                             "val_loss": [seed + 0.1]})
    ...     history.attrs["configs"] = pd.DataFrame({"model": [0], "lr": [0.1]})
    ...     return history
    >>> sweep(run, 1, batch=[4, 16], seed=[0, 1])[["batch", "seed", "loss", "val_loss"]].to_numpy().tolist()
    [[4.0, 0.0, 0.125, 0.1], [4.0, 1.0, 0.125, 1.1], [16.0, 0.0, 0.03125, 0.1], [16.0, 1.0, 0.03125, 1.1]]
    """
    if not axes:
        raise ParameterError("axes is empty; name at least one keyword of run and its values, e.g. seed=[0, 1, 2]")
    names = list(axes)
    parts = [final(run(**dict(zip(names, point))), epochs, **dict(zip(names, point)))
             for point in itertools.product(*axes.values())]
    return pd.concat(parts, ignore_index=True)


def agreement(frames: dict, on, value: str, tol: float) -> pd.DataFrame:
    """Pair two frameworks' results row by row and return them with the gap in ``value``.

    ``frames`` maps two framework names to tables with the columns ``on`` (the
    keys that pair a run with its twin, e.g. ``["batch", "lr", "seed"]``) and
    ``value``. The result has one column of ``value`` per framework, ``gap``
    (their absolute difference; ``inf`` when exactly one diverged, 0 when both
    did) and ``agree`` (``gap <= tol``). ``result.attrs["text"]`` is the line a
    chapter prints, e.g. ``"tf vs torch: val_loss agrees to 1e-04 in 2 of 2
    runs"``.

    >>> a = pd.DataFrame({"lr": [0.1, 1.0], "val_loss": [0.30, 0.2]})
    >>> b = pd.DataFrame({"lr": [0.1, 1.0], "val_loss": [0.30, 0.5]})
    >>> agreement({"tf": a, "torch": b}, ["lr"], "val_loss", 1e-4).attrs["text"]
    'tf vs torch: val_loss agrees to 0.0001 in 1 of 2 runs'
    """
    if len(frames) != 2:
        raise ParameterError(f"frames has {len(frames)} frameworks ({', '.join(frames)}); agreement pairs exactly two")
    tol = check_number("tol", tol, low=0)
    (first, a), (second, b) = frames.items()
    on = [on] if isinstance(on, str) else list(on)
    paired = a[on + [value]].merge(b[on + [value]], on=on, suffixes=(f" {first}", f" {second}"), validate="one_to_one")
    x, y = paired[f"{value} {first}"].to_numpy(float), paired[f"{value} {second}"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isfinite(x) & np.isfinite(y), np.abs(x - y), np.where(np.isfinite(x) == np.isfinite(y), 0.0,
                                                                                np.inf))
    paired["gap"], paired["agree"] = gap, gap <= tol
    paired.attrs["text"] = (f"{first} vs {second}: {value} agrees to {tol:g} in {int(paired.agree.sum())} of "
                            f"{len(paired)} runs")
    return paired
