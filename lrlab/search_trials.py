"""Training a batch of search trials at once, and comparing search strategies at equal budgets (C003-1a, C003-3).

A hyperparameter search proposes trials; :func:`fit_many_objective` turns a
model, its data and a fixed training recipe into the batched objective
:func:`lrlab.search.run_batched` calls: the proposed trials are grouped by batch
size (the one thing all models of a ``fit_many`` call share) and each group
trains as one batched computation. :func:`compare` runs grid, random and TPE
search at equal budgets over several seeds, and :func:`best_at` reads the best
value each strategy reached within a budget. :func:`one_at_a_time` and
:func:`importance` serve C003-1a ("the learning rate and the batch size matter
most"): move one hyperparameter at a time from a base configuration and measure
how far the result moves across its range.

Nothing here imports TensorFlow or PyTorch: a backend object is passed in.
"""

from __future__ import annotations

import math

import pandas as pd

from lrlab import search
from lrlab.params import ParameterError

__all__ = ["STRATEGIES", "best_at", "compare", "fit_many_objective", "importance", "one_at_a_time"]

#: the three strategies of C003-3, in the order tables show them
STRATEGIES = ("grid", "random", "tpe")


def fit_many_objective(backend, spec, train, val, *, optimizer: str, loss: str, epochs: int, trial_seed: int,
                       metric: str = "val_accuracy"):
    """Return ``evaluate(points) -> outcomes`` for :func:`lrlab.search.run_batched`.

    Each point is a dict with ``batch_size`` and optimizer hyperparameters
    (``lr``, ``weight_decay``, ``beta_1`` ...); the points of one batch size
    train together in one ``backend.fit_many`` call from the initial weights of
    ``trial_seed``, with the batch order of ``seed=trial_seed``. An outcome is
    ``{"value": metric at the last epoch, "val_loss": ...}``, NaN for a run that
    diverged (a failed trial).
    """
    def evaluate(points):
        out = [None] * len(points)
        for batch in sorted({p["batch_size"] for p in points}):
            idx = [i for i, p in enumerate(points) if p["batch_size"] == batch]
            configs = [{k: v for k, v in points[i].items() if k != "batch_size"} | {"init_seed": trial_seed}
                       for i in idx]
            history = backend.fit_many(spec, train, val, optimizer=optimizer, loss=loss, epochs=epochs,
                                       batch_size=batch, configs=configs, seed=trial_seed)
            last = history.groupby("model").tail(1).sort_values("model")
            for i, row in zip(idx, last.itertuples()):
                ok = row.status == "ok" and row.epoch == epochs - 1
                out[i] = {"value": getattr(row, metric) if ok else math.nan,
                          "val_loss": row.val_loss if ok else math.nan}
        return out
    return evaluate


def compare(objective_for, ranges, *, budgets, seeds, direction: str = "maximize", tpe_batch: int = 4,
            tpe_startup: int = 8) -> dict:
    """Run grid, random and TPE search for every seed; return ``{(strategy, budget, seed): SearchResult}``.

    ``objective_for(seed)`` returns the batched objective of that seed
    (:func:`fit_many_objective`). The grid runs once per budget (a grid of 8 is
    not the first 8 points of a grid of 16); random and TPE run once at the
    largest budget, whose first trials are the smaller budgets' searches (same
    seed, same draws). Random search proposes all its trials at once; TPE draws
    ``tpe_startup`` at random (exactly random search's first draws) and then
    ``tpe_batch`` at a time.
    """
    budgets = sorted(budgets)
    if not budgets or budgets[0] < 1:
        raise ParameterError(f"budgets = {budgets!r} is not allowed; expected whole numbers >= 1")
    horizon, results = budgets[-1], {}
    for s in seeds:
        for strategy in STRATEGIES:
            for budget in (budgets if strategy == "grid" else [horizon]):
                results[strategy, budget, s] = search.run_batched(
                    objective_for(s), ranges, strategy=strategy, n_trials=budget, seed=s, direction=direction,
                    batch=tpe_batch if strategy == "tpe" else budget, n_startup_trials=tpe_startup, storage=None,
                    study_name=f"{strategy}-{budget}-seed{s}")
    return results


def best_at(results: dict, strategy: str, budget: int, seed: int) -> float:
    """Return the best value ``strategy`` reached within ``budget`` trials for ``seed`` (see :func:`compare`).

    >>> class R:  # a stand-in for a SearchResult
    ...     best_value = 0.7
    ...     trials = pd.DataFrame({"best_so_far": [0.5, 0.6, 0.8]})
    >>> best_at({("grid", 2, 0): R(), ("random", 3, 0): R()}, "random", 2, 0)
    0.6
    """
    if strategy == "grid":
        return float(results["grid", budget, seed].best_value)
    horizon = max(b for st, b, s in results if st == strategy and s == seed)
    return float(results[strategy, horizon, seed].trials.best_so_far.iloc[budget - 1])


def one_at_a_time(base: dict, ranges: dict) -> list[dict]:
    """Return the configurations that move one hyperparameter at a time away from ``base``.

    ``ranges`` maps a hyperparameter to the values it takes (its base value
    among them or not); every configuration is ``base`` with one value changed,
    plus ``base`` itself once, each tagged with ``"moved"`` (the name, or
    ``"base"``).

    >>> one_at_a_time({"lr": 0.1, "batch_size": 50}, {"lr": [0.01, 0.1], "batch_size": [25]})
    [{'lr': 0.1, 'batch_size': 50, 'moved': 'base'}, {'lr': 0.01, 'batch_size': 50, 'moved': 'lr'}, \
{'lr': 0.1, 'batch_size': 25, 'moved': 'batch_size'}]
    """
    unknown = set(ranges) - set(base)
    if unknown:
        raise ParameterError(f"ranges names {sorted(unknown)}, which base does not have; allowed: {sorted(base)}")
    configs = [base | {"moved": "base"}]
    for name, values in ranges.items():
        configs += [base | {name: v, "moved": name} for v in values if v != base[name]]
    return configs


def importance(results: pd.DataFrame, value: str = "value") -> pd.DataFrame:
    """Return, per hyperparameter and seed, how far ``value`` moves across that hyperparameter's range.

    ``results`` has one row per configuration of :func:`one_at_a_time` and seed
    (columns ``moved``, ``seed``, the hyperparameters and ``value``). A
    hyperparameter's range is its moved configurations plus the base. Its effect
    in a seed is the value at the range's best point minus the value at its
    worst point, the points chosen by their mean over seeds (so noise does not
    choose them), for a value to maximise. Rows: hyperparameters; columns: seeds.

    >>> r = pd.DataFrame({"moved": ["base", "lr", "base", "lr"], "seed": [0, 0, 1, 1], "lr": [0.1, 0.01] * 2,
    ...                   "value": [0.8, 0.5, 0.7, 0.6]})
    >>> importance(r).round(2).to_dict("index")
    {'lr': {0: 0.3, 1: 0.1}}
    """
    base = results[results.moved == "base"]
    rows = {}
    for name in [m for m in results.moved.unique() if m != "base"]:
        part = pd.concat([base, results[results.moved == name]]).pivot_table(index=name, columns="seed",
                                                                              values=value)
        mean = part.mean(axis=1)
        rows[name] = part.loc[mean.idxmax()] - part.loc[mean.idxmin()]
    return pd.DataFrame(rows).T

