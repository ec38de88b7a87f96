"""Starting learning rate × total decay: the grid of exponential schedules and its best cells (C004-2).

A decay by a factor :math:`f` over the :math:`K` updates of a run is the
exponential schedule :math:`\\eta_k = \\eta_0 f^{-k/K}`; :math:`f = 1` is a
constant rate. The decay chapter trains every (start, factor) pair of a grid and
asks where the best cells lie:

* :func:`schedule` and :func:`grid` — the ``fit_many`` configurations of the grid
  and a table naming each one's start and factor (:func:`label` adds it to the
  results of a sweep);
* :func:`best_cells` — per optimizer, the best cell inside a band of starts and
  outside it, and the best cell decaying at least a factor and less than it,
  chosen on the seed means, with the seed-by-seed effects the chapter judges;
* :func:`at_best_start` — at the best start, one decay's final loss minus
  another's, seed by seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from lrlab import part_checks, schedules
from lrlab.params import ParameterError

__all__ = ["at_best_start", "best_cells", "grid", "label", "schedule"]


def schedule(lr0: float, factor: float, steps: int):
    """Return the rate that starts at ``lr0`` and decays by ``factor`` over ``steps`` updates (``lr0`` if factor 1).

    :math:`\\eta_k = \\eta_0 \\cdot \\text{factor}^{-k/\\text{steps}}`, i.e.
    ``lrlab.schedules.make("exponential", initial_lr=lr0, decay_steps=steps,
    decay_rate=1 / factor)`` (Keras's ``ExponentialDecay``, PyTorch's
    ``ExponentialLR`` stepped per update).

    >>> schedule(0.1, 1, 100)
    0.1
    """
    if factor == 1:
        return lr0
    return schedules.make("exponential", initial_lr=lr0, decay_steps=steps, decay_rate=1.0 / factor)


def grid(starts: Sequence[float], factors: Sequence[float], steps: int) -> tuple[list, pd.DataFrame]:
    """Return the ``fit_many`` configurations of every (start, factor) pair and the table naming them.

    The configurations are ``[{"lr": schedule(start, factor, steps)}, ...]``,
    starts outer and factors inner; the table has one row per configuration,
    columns ``start lr`` and ``factor``.

    >>> configs, labels = grid([0.01, 0.1], [1, 10], 50)
    >>> len(configs), labels.to_numpy().tolist()[1]
    (4, [0.01, 10.0])
    """
    configs = [{"lr": schedule(lr0, f, steps)} for lr0 in starts for f in factors]
    labels = pd.DataFrame([{"start lr": lr0, "factor": f} for lr0 in starts for f in factors])
    return configs, labels


def label(runs: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Return a sweep's results (:func:`lrlab.sensitivity.sweep`, one grid per call) with ``labels``' columns.

    Every call trained the grid's configurations in order, so ``labels`` repeats
    once per call.
    """
    if len(runs) % len(labels):
        raise ParameterError(f"runs has {len(runs)} rows, not a whole number of grids of {len(labels)}")
    tiled = pd.concat([labels] * (len(runs) // len(labels)), ignore_index=True)
    return pd.concat([runs, tiled], axis=1)


def best_cells(runs: pd.DataFrame, band: tuple[float, float], factor: float,
               optimizers: Sequence[str] = ("sgd", "adam")) -> tuple[dict, list]:
    """Return the seed-by-seed effects of C004-2a and C004-2b per optimizer, and the cells they compare.

    ``runs`` has one row per model: ``optimizer``, ``seed``, ``start lr``,
    ``factor`` and ``val_loss`` (its final validation loss). For each optimizer
    the cells are chosen on the seed means: the best cell whose start lies in
    ``band`` (``low <= start <= high``) and the best outside it; the best cell
    decaying by ``factor`` or more and the best decaying less. Then, seed by
    seed (:func:`lrlab.part_checks.effect`):

    * ``"C004-2a"``: loss(best in band) / loss(best outside) − 1;
    * ``"C004-2b"``: 1 − loss(best decaying ≥ factor) / loss(best decaying less).

    Returns ``({part: {optimizer: (effect, noise)}}, chosen)``, ``chosen`` one
    row per optimizer naming the four cells as ``(start lr, factor)``.
    """
    low, high = band
    measured, chosen = {"C004-2a": {}, "C004-2b": {}}, []
    for opt in optimizers:
        per = runs[runs.optimizer == opt].pivot_table(index=["start lr", "factor"], columns="seed", values="val_loss")
        means = per.mean(axis=1)
        inside = part_checks.best_cell(means, lambda s, f: low <= s <= high)
        outside = part_checks.best_cell(means, lambda s, f: not low <= s <= high)
        big = part_checks.best_cell(means, lambda s, f: f >= factor)
        small = part_checks.best_cell(means, lambda s, f: f < factor)
        measured["C004-2a"][opt] = part_checks.effect(per.loc[inside] / per.loc[outside] - 1)
        measured["C004-2b"][opt] = part_checks.effect(1 - per.loc[big] / per.loc[small])
        chosen.append({"optimizer": opt, "best in band": inside, "best outside": outside,
                       f"best decaying >= {factor:g}x": big, f"best decaying < {factor:g}x": small})
    return measured, chosen


def at_best_start(runs: pd.DataFrame, optimizer: str, factor: float, against: float) -> tuple[float, pd.Series]:
    """Return ``optimizer``'s best start (lowest seed-mean loss, any decay) and there loss(factor) − loss(against).

    The difference is seed by seed (a Series indexed by seed), between the final
    validation losses of the decays ``factor`` and ``against`` from that start.

    >>> runs = pd.DataFrame({"optimizer": "adam", "seed": [0, 0, 1, 1], "start lr": 0.1, "factor": [1, 10] * 2,
    ...                      "val_loss": [0.5, 0.25, 0.75, 0.5]})
    >>> start, d = at_best_start(runs, "adam", 10, 1)
    >>> float(start), d.tolist()
    (0.1, [-0.25, -0.25])
    """
    per = runs[runs.optimizer == optimizer].pivot_table(index=["start lr", "factor"], columns="seed",
                                                        values="val_loss")
    best = per.mean(axis=1).idxmin()[0]
    return best, per.loc[(best, factor)] - per.loc[(best, against)]

