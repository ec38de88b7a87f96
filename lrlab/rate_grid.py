"""A grid of learning-rate schedules on one network, read by validation accuracy: the mechanics of chapter 17.

Chapter 17 re-tests, on MNIST-1D, the claims about *which* learning rate and
schedule to use (C002-1a, C002-2a, C004-2a, C004-2b). Every run there is one
model of a ``fit_many`` call, labelled by a tuple such as ``(start, factor,
seed)``, and every question is asked of the grid's last epoch, seed by seed:

* :func:`decay_schedule` — the exponential decay by a total ``factor`` over the
  run, :math:`\\eta_k = \\eta_0 f^{-k/K}` (a float when ``factor`` is 1);
* :func:`labels` and :func:`schedule` — the runs of one ``fit_many`` call, labelled
  ``(schedule, lr, factor, seed)``: exponential decays from each rate, triangular cycles
  to each peak; :func:`train` trains them and returns the history and :func:`finals`;
* :func:`finals` — one row per model: its label, its final training loss,
  validation loss and validation accuracy (a diverged model: loss ``inf``,
  accuracy 0, worse than chance);
* :func:`per_seed` — a column of :func:`finals` as a table, cells down, seeds across;
* :func:`band_decades` — the band of good learning rates of every seed, counted
  on the grid (each good rate is worth one grid step, in decades);
* :func:`best_against` — the per-seed values of the two best cells (highest
  seed mean) of two disjoint sets of cells, the comparison every rule makes;
* :func:`adam_band_gain`, :func:`decay_effects`, :func:`cycle_effects` — the per-seed
  effects of C002-1a, C004-2a/b and C002-2a, from :func:`train`'s tables;
* :func:`mean_curves` — a column of a history per epoch, averaged over seeds;
* :func:`plot_accuracy` — validation accuracy against the learning rate per
  optimizer, with the line that makes a rate "good".

In a regime that over-fits (MNIST-1D, few training rows) the validation loss
rewards a model that has barely trained (chapter 16), so the rules read the
validation *accuracy*. Nothing here imports TensorFlow or PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lrlab import part_checks, schedules, sensitivity
from lrlab.params import ParameterError, check_number

__all__ = ["adam_band_gain", "band_decades", "best_against", "cycle_effects", "decay_effects", "decay_schedule",
           "finals", "labels", "mean_curves", "per_seed", "plot_accuracy", "schedule", "train"]


def decay_schedule(lr0: float, factor: float, steps: int):
    """Return the exponential decay from ``lr0`` by ``factor`` in all over ``steps`` updates; ``lr0`` for factor 1.

    The LR of update k is ``lr0 * factor ** (-k / steps)``: Keras's
    ``ExponentialDecay`` and PyTorch's ``ExponentialLR`` stepped per update
    (:func:`lrlab.schedules.make`, ``"exponential"``), so the last update runs at
    about ``lr0 / factor``.

    >>> decay_schedule(0.1, 1, 100)
    0.1
    >>> s = decay_schedule(0.1, 100, 100)
    >>> [round(float(v), 6) for v in s(np.array([0, 50, 100]))]
    [0.1, 0.01, 0.001]
    """
    check_number("factor", factor, low=1)
    if factor == 1:
        return float(lr0)
    return schedules.make("exponential", initial_lr=lr0, decay_steps=steps, decay_rate=1.0 / factor)


def labels(lrs, factors, seeds, peaks=(), ratio: float = 10.0) -> list[tuple]:
    """Return the labels ``(schedule, lr, factor, seed)`` of a grid: decays first, then cycles, seeds fastest.

    ``("decay", lr, f, s)`` decays from ``lr`` by ``f`` in all (``f`` 1: the
    constant ``lr``); ``("cycle", peak, ratio, s)`` cycles between ``peak / ratio``
    and ``peak`` (:func:`schedule`).

    >>> labels([0.1], [1, 10], [0], peaks=[1.0])
    [('decay', 0.1, 1, 0), ('decay', 0.1, 10, 0), ('cycle', 1.0, 10.0, 0)]
    """
    return ([("decay", lr, f, s) for lr in lrs for f in factors for s in seeds]
            + [("cycle", p, ratio, s) for p in peaks for s in seeds])


def schedule(kind: str, lr: float, factor: float, steps: int, cycles: int = 1):
    """Return the LR of a label: :func:`decay_schedule`, or a triangular cycle ``lr / factor`` to ``lr``.

    The cycle (``lrlab.schedules.make("cyclic", mode="triangular")``, chapter 12)
    climbs for ``steps // (2 * cycles)`` updates and comes back as long, so a run
    of ``steps`` updates holds ``cycles`` whole cycles and ends at the low rate.

    >>> s = schedule("cycle", 1.0, 10, steps=8, cycles=2)
    >>> [round(float(v), 3) for v in s(np.arange(5))]
    [0.1, 0.55, 1.0, 0.55, 0.1]
    """
    if kind == "decay":
        return decay_schedule(lr, factor, steps)
    if kind != "cycle":
        raise ParameterError(f"kind = {kind!r} is not allowed; expected 'decay' or 'cycle'")
    return schedules.make("cyclic", base_lr=lr / factor, max_lr=lr, step_size_up=max(1, steps // (2 * cycles)),
                          mode="triangular")


def train(backend, spec, train, val, *, optimizer: str, grid: Sequence[tuple], epochs: int, batch_size: int,
          cycles: int = 1):
    """Train one model of ``spec`` per label of ``grid`` (:func:`labels`) in one ``fit_many`` call.

    The label's last field is the initial-weight seed; the batch order is the
    same for all (``fit_many``'s ``seed=0``). Return ``(history, table)``:
    ``fit_many``'s history and :func:`finals`'s table with an ``optimizer`` column.
    """
    steps = epochs * -(-len(train[0]) // batch_size)
    configs = [{"lr": schedule(*label[:3], steps, cycles), "init_seed": label[3]} for label in grid]
    history = backend.fit_many(spec, train, val, optimizer=optimizer, loss="categorical_crossentropy",
                               epochs=epochs, batch_size=batch_size, configs=configs)
    table = finals(history, grid, ("schedule", "lr", "factor", "seed"), epochs)
    return history, table.assign(optimizer=optimizer)


def finals(history: pd.DataFrame, labels: Sequence[tuple], names: Sequence[str], epochs: int) -> pd.DataFrame:
    """Return one row per model of a ``fit_many`` history: its label, ``loss``, ``val_loss`` and ``val_accuracy``.

    ``labels`` holds one tuple per model (in the order of the configurations),
    ``names`` names its fields (e.g. ``("start", "factor", "seed")``). The
    values are those of the last epoch (:func:`lrlab.sensitivity.final`); a model
    that diverged has ``loss`` and ``val_loss`` ``inf`` and ``val_accuracy`` 0,
    so that it is never the best and never "good".
    """
    labels = [tuple(label) for label in labels]
    if any(len(label) != len(names) for label in labels):
        raise ParameterError(f"labels must be tuples of {len(names)} fields ({', '.join(names)})")
    end = sensitivity.final(history, epochs)
    if len(end) != len(labels):
        raise ParameterError(f"the history has {len(end)} models but {len(labels)} labels")
    out = pd.DataFrame(labels, columns=list(names))
    for column in ("loss", "val_loss", "val_accuracy"):
        out[column] = end[column].to_numpy(float)
    out["diverged"] = end["diverged"].to_numpy(bool)
    out.loc[out.diverged, "val_accuracy"] = 0.0
    return out


def per_seed(table: pd.DataFrame, cells: Sequence[str], value: str = "val_accuracy") -> pd.DataFrame:
    """Return ``value`` of :func:`finals`'s ``table`` with the ``cells`` columns down and the seeds across.

    >>> t = pd.DataFrame({"lr": [0.1, 0.1, 1.0, 1.0], "seed": [0, 1, 0, 1], "val_accuracy": [0.5, 0.7, 0.2, 0.4]})
    >>> per_seed(t, ["lr"]).to_numpy().tolist()
    [[0.5, 0.7], [0.2, 0.4]]
    """
    return table.pivot_table(index=list(cells), columns="seed", values=value, aggfunc="first")


def band_decades(table: pd.DataFrame, by: str, threshold: float, value: str = "val_accuracy") -> pd.DataFrame:
    """Return the width of each seed's band of good learning rates, per group ``by`` (seeds down, groups across).

    ``table`` has the columns ``lr``, ``seed``, ``by`` and ``value`` (one row per
    run of a constant-rate grid whose rates are about evenly spaced in ``log10``,
    such as 0.001, 0.003, 0.01, ...: half a decade within 15 %). A
    rate is good for a seed when its ``value`` is at least ``threshold``; the
    width is the number of good rates times the mean grid step in decades. No
    interpolation between grid points: a run near breakdown, whose end depends
    on the CPU's last bits, moves a width only if it crosses the threshold.

    >>> t = pd.DataFrame({"opt": "sgd", "seed": 0, "lr": [0.01, 0.1, 1.0], "val_accuracy": [0.2, 0.5, 0.6]})
    >>> band_decades(t, "opt", 0.45).to_numpy().tolist()
    [[2.0]]
    """
    lrs = np.sort(table.lr.unique())
    steps = np.diff(np.log10(lrs))
    if len(lrs) < 2 or not np.allclose(steps, steps[0], rtol=0.15):
        raise ParameterError(f"the learning rates {lrs.tolist()} are not evenly spaced in log10")
    good = table.assign(good=table[value] >= threshold)
    return good.pivot_table(index="seed", columns=by, values="good", aggfunc="sum") * float(steps.mean())


def best_against(values: pd.DataFrame, first: Callable[..., bool], second: Callable[..., bool]):
    """Return ``(a, b, cell_a, cell_b)``: per-seed rows of the best cell ``first`` accepts, and of ``second``'s.

    ``values`` is :func:`per_seed`'s table (cells down, seeds across); "best"
    is the highest mean over seeds among the cells whose index ``first(*cell)``
    (or ``second(*cell)``) accepts — the cell is chosen on the means, the effect
    is then read seed by seed (:func:`lrlab.part_checks.effect`).

    >>> v = pd.DataFrame([[0.5, 0.6], [0.7, 0.6], [0.4, 0.4]], index=[0.001, 0.01, 0.1], columns=[0, 1])
    >>> a, b, ca, cb = best_against(v, lambda lr: lr <= 0.01, lambda lr: lr > 0.01)
    >>> ca, cb, (a - b).tolist()
    (0.01, 0.1, [0.29999999999999993, 0.19999999999999996])
    """
    means = values.mean(axis=1)
    chosen = []
    for keep in (first, second):
        cells = [c for c in means.index if keep(*(c if isinstance(c, tuple) else (c,))) and np.isfinite(means[c])]
        if not cells:
            raise ParameterError("a selection accepts no cell with a finite mean")
        chosen.append(max(cells, key=lambda c: means[c]))
    return values.loc[chosen[0]], values.loc[chosen[1]], chosen[0], chosen[1]


def adam_band_gain(constant: pd.DataFrame, threshold: float, baselines: dict) -> tuple[pd.DataFrame, dict]:
    """Return ``(bands, effects)``: :func:`band_decades` per optimizer, and Adam's band minus each baseline's.

    ``constant`` holds the constant-rate runs of several optimizers (column
    ``optimizer``, one of them ``"adam"``); ``baselines`` maps an optimizer to
    the condition's name, e.g. ``{"sgd": "against plain SGD"}``; each effect is
    ``(mean, std)`` over seeds (:func:`lrlab.part_checks.effect`).
    """
    bands = band_decades(constant, "optimizer", threshold)
    return bands, {name: part_checks.effect(bands["adam"] - bands[opt]) for opt, name in baselines.items()}


def decay_effects(decays: pd.DataFrame, band=(0.001, 0.01), big: float = 100) -> tuple[dict, dict]:
    """Return ``(effects, cells)`` of one optimizer's grid of starts × decay factors, on validation accuracy.

    ``"C004-2a"``: one minus the best cell with a start in ``band`` over the
    best cell outside it, per seed (at most 0.1: the best start lies in the
    band); ``"C004-2b"``: the best cell decaying ``big``-fold or more over the
    best decaying less, minus one (at least 0.05: the large decay helps). Cells
    ``(lr, factor)`` are chosen on the seed means (:func:`best_against`).
    """
    acc = per_seed(decays, ["lr", "factor"])
    a, b, ca, cb = best_against(acc, lambda lr, f: band[0] <= lr <= band[1], lambda lr, f: not band[0] <= lr <= band[1])
    c, d, cc, cd = best_against(acc, lambda lr, f: f >= big, lambda lr, f: f < big)
    cells = {"best in band": ca, "best outside": cb, f"best decaying >= {big:g}x": cc, f"best decaying < {big:g}x": cd}
    return {"C004-2a": part_checks.effect(1 - a / b), "C004-2b": part_checks.effect(c / d - 1)}, cells


def cycle_effects(runs: pd.DataFrame) -> tuple[dict, dict]:
    """Return ``(effects, cells)``: the best cycle against the best constant rate, on training loss and on accuracy.

    ``runs`` holds one optimizer's cycles (``schedule == "cycle"``) and constant
    rates (``factor == 1`` decays). ``"on training loss"``: one minus the best
    cycle's final training loss over the best constant rate's, per seed;
    ``"on validation accuracy"``: the best cycle's accuracy over the best
    constant's, minus one. Each "best" is chosen on the seed means of its reading.
    """
    runs = runs[(runs.schedule == "cycle") | (runs.factor == 1)]
    effects, cells = {}, {}
    for reading, value, sign in (("on training loss", "loss", -1.0), ("on validation accuracy", "val_accuracy", 1.0)):
        v = sign * per_seed(runs, ["schedule", "lr"], value)  # the best is the highest
        a, b, ca, cb = best_against(v, lambda k, lr: k == "cycle", lambda k, lr: k == "decay")
        effects[reading] = part_checks.effect(1 - a / b if sign < 0 else a / b - 1)
        cells[reading] = {"best cycle's peak": ca[1], "best constant rate": cb[1]}
    return effects, cells


def mean_curves(history: pd.DataFrame, labels: Sequence[tuple], column: str = "loss") -> pd.DataFrame:
    """Return ``column`` per epoch (rows) and per label without its last field, the seed (columns), seed-averaged.

    ``labels`` are those of :func:`finals`, whose last field is the seed; a
    diverged model's missing epochs are left out of the mean.
    """
    keys = [tuple(label)[:-1] for label in labels]
    names = [k[0] if len(k) == 1 else k for k in keys]
    frame = history.assign(cell=[names[m] for m in history.model])
    return frame.pivot_table(index="epoch", columns="cell", values=column, aggfunc="mean")


def plot_accuracy(ax, table: pd.DataFrame, by: str = "optimizer", threshold: float | None = None, title=None):
    """Plot mean validation accuracy (over seeds, min–max shaded) against the learning rate, one curve per ``by``.

    ``table`` is :func:`finals`'s (columns ``lr``, ``seed``, ``by``,
    ``val_accuracy``); ``threshold`` draws the accuracy above which a rate is good.
    """
    for i, (name, part) in enumerate(table.groupby(by, sort=False)):
        stats = part.groupby("lr").val_accuracy.agg(["mean", "min", "max"])
        ax.plot(stats.index, stats["mean"], "o-", ms=3, color=f"C{i}", label=str(name))
        ax.fill_between(stats.index, stats["min"], stats["max"], color=f"C{i}", alpha=0.2)
    if threshold is not None:
        ax.axhline(threshold, color="grey", ls=":", lw=1, label="good: at or above this line")
    ax.set(xscale="log", xlabel="learning rate (constant)", ylabel="final val accuracy", title=title)
    ax.legend(fontsize=7)
    return ax
