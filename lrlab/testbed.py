"""MNIST-1D as a testbed (chapter 15): the published baselines and the models that reproduce them.

Greydanus & Kobak (ICML 2024, ``../shared/references.md``) report test accuracies
on MNIST-1D of 32 % (logistic regression), 68 % (MLP) and 94 % (CNN). This module
names those models as lrlab specs (:data:`MODELS`), trains several seeds of one
in a single ``fit_many`` call (:func:`train_seeds`) and summarises the final
epoch (:func:`final_accuracy`). Nothing here imports TensorFlow or PyTorch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import part_checks, training
from lrlab.params import ParameterError

__all__ = ["MODELS", "PUBLISHED", "best_choice", "final_accuracy", "read_runs", "seed_effect", "signals_by_class",
           "train_seeds"]

#: published test accuracy of each baseline (Greydanus & Kobak 2024, abstract and project page)
PUBLISHED = {"logistic regression": 0.32, "MLP": 0.68, "CNN": 0.94}

#: the baseline models as lrlab specs: a linear softmax layer, the paper's 40-100-100-10 MLP, its CNN
MODELS = {
    "logistic regression": training.MLPSpec((40, 10), output_activation="softmax"),
    "MLP": training.MLPSpec((40, 100, 100, 10), output_activation="softmax"),
    "CNN": training.CNNSpec(),
}


def train_seeds(backend, spec, train, test, *, lr, epochs, seeds, batch_size=100, optimizer="adam"):
    """Return ``fit_many``'s history of ``spec`` trained once per initial-weight seed in ``seeds``.

    ``lr`` is a float or an lrlab schedule, shared by all seeds; the batch order
    is the one of ``fit``'s ``seed=0``; ``test`` is passed as ``val`` so every
    epoch's test accuracy is in ``val_accuracy`` (nothing is selected on it: the
    book reads the last epoch, fixed in advance).
    """
    configs = [{"lr": lr, "init_seed": int(s)} for s in seeds]
    return backend.fit_many(spec, train, test, optimizer=optimizer, loss="categorical_crossentropy",
                            epochs=epochs, batch_size=batch_size, configs=configs)


def final_accuracy(history: pd.DataFrame, column: str = "val_accuracy") -> pd.Series:
    """Return each model's ``column`` at its last epoch (one value per model, indexed by model)."""
    return history.sort_values(["model", "epoch"]).groupby("model")[column].last()


def signals_by_class(x, labels, per_class: int = 3) -> dict:
    """Return ``{class: rows (per_class, length)}``: the first ``per_class`` signals of each class."""
    labels = np.asarray(labels)
    return {c: np.asarray(x)[np.flatnonzero(labels == c)[:per_class]] for c in np.unique(labels)}


def read_runs(history: pd.DataFrame, labels, *, column: str = "val_accuracy", epoch: int | None = None,
              target_loss: float | None = None) -> pd.Series:
    """Return ``column`` of each model of a ``fit_many`` history, indexed by ``labels`` (one per model, in order).

    Exactly one of ``epoch`` (0-based; the value at that epoch) and
    ``target_loss`` (the value at the first epoch whose training loss is
    ``<= target_loss``: the comparison at equal fit). NaN where the model never
    got there (it diverged first, or never fitted that well). ``labels`` are
    tuples (a MultiIndex is built) or scalars.

    >>> h = pd.DataFrame({"model": [0, 0, 1, 1], "epoch": [0, 1, 0, 1], "loss": [0.5, 0.1, 0.9, 0.6],
    ...                   "val_accuracy": [0.6, 0.7, 0.4, 0.5], "status": "ok"})
    >>> read_runs(h, ["a", "b"], target_loss=0.2).tolist(), read_runs(h, ["a", "b"], epoch=0).tolist()
    ([0.7, nan], [0.6, 0.4])
    """
    if (epoch is None) == (target_loss is None):
        raise ParameterError("expected exactly one of epoch and target_loss")
    labels = list(labels)
    ok = history[history.status == "ok"]
    hit = ok[ok.epoch == epoch] if epoch is not None else ok[ok.loss <= target_loss]
    values = hit.sort_values("epoch").groupby("model")[column].first().reindex(range(len(labels)))
    index = pd.MultiIndex.from_tuples(labels) if labels and isinstance(labels[0], tuple) else pd.Index(labels)
    return pd.Series(values.to_numpy(np.float64), index=index, name=column)


def seed_effect(values, digits: int = 3) -> tuple[float, float]:
    """Return ``(mean, std)`` of per-seed effects, rounded to ``digits`` so every CPU prints them the same.

    :func:`lrlab.part_checks.effect` (sample standard deviation; NaN when a seed
    has no value, or with one seed), rounded; ``-0.0`` becomes ``0.0``.

    >>> seed_effect([0.1, 0.3])
    (0.2, 0.141)
    """
    return tuple(round(v, digits) + 0.0 for v in part_checks.effect(values))


def best_choice(history: pd.DataFrame, labels, **where) -> tuple[pd.Series, object]:
    """Return the per-seed validation accuracy of the best choice, and that choice.

    ``labels`` are ``(choice, seed)`` per model (as for :func:`read_runs`, which
    reads ``where``: ``epoch=`` or ``target_loss=``). Only choices that got there
    in every seed compete; the best has the highest mean accuracy. With none,
    ``(Series([nan]), "-")``.

    >>> h = pd.DataFrame({"model": [0, 1, 2, 3], "epoch": 0, "loss": 0.1, "status": "ok",
    ...                   "val_accuracy": [0.6, 0.8, 0.7, 0.9]})
    >>> acc, choice = best_choice(h, [("a", 0), ("a", 1), ("b", 0), ("b", 1)], epoch=0)
    >>> choice, acc.tolist()
    ('b', [0.7, 0.9])
    """
    acc = read_runs(history, labels, **where).unstack()
    acc = acc[acc.notna().all(axis=1)]
    if not len(acc):
        return pd.Series([np.nan]), "-"
    choice = acc.mean(axis=1).idxmax()
    return acc.loc[choice], choice
