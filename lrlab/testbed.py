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

from lrlab import training

__all__ = ["MODELS", "PUBLISHED", "final_accuracy", "signals_by_class", "train_seeds"]

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
