"""Reading a finished scikit-learn search: its best candidate, its ranking, its progress (E003-2, chapter 6).

Chapter 6 completes seed 003's ``GridSearchCV`` and runs ``RandomizedSearchCV``
at the same budget. Both searches leave the same things to read, and this module
reads them, so the chapter's cells say *which* search they run and not how its
``cv_results_`` are laid out:

* :func:`results` — ``cv_results_`` as a table, one row per candidate;
* :func:`best_lines` — the three lines the chapter prints of each search: the
  best parameters, their mean cross-validated score (with its standard
  deviation over the folds) and the refitted model's score on the test rows;
* :func:`ranking` — the candidates sorted by their rank, hyperparameters first;
* :func:`distinct` — how many different values of each hyperparameter a search tried;
* :func:`summary` — what the chapter records of a search;
* :func:`plot_progress` — the best score after each candidate, and every
  candidate's score against one hyperparameter.

Nothing here fits a model except the ``score`` of a search's refitted estimator
on the rows it is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["best_lines", "distinct", "plot_progress", "ranking", "results", "summary"]


def results(search) -> pd.DataFrame:
    """Return a fitted search's ``cv_results_`` as a table: one row per candidate, in the order it was evaluated.

    >>> results(type("S", (), {"cv_results_": {"mean_test_score": [0.5, 0.75]}})()).mean_test_score.tolist()
    [0.5, 0.75]
    """
    return pd.DataFrame(search.cv_results_)


def best_lines(search, X_test, y_test, model: str = "forest") -> list[str]:
    """Return three lines on a fitted search's best candidate.

    The best parameters (``best_params_``); the best mean cross-validated score
    (``best_score_``, four decimals) with the standard deviation of that
    candidate's score over the folds (``std_test_score``); and the score of the
    refitted best ``model`` on ``(X_test, y_test)`` (``search.score``, three decimals).
    """
    std = pd.DataFrame(search.cv_results_).loc[search.best_index_, "std_test_score"]
    return [f"best parameters: {search.best_params_}",
            f"best mean CV accuracy: {search.best_score_:.4f} (std over folds {std:.4f})",
            f"test accuracy of the refitted best {model}: {search.score(X_test, y_test):.3f}"]


def ranking(table: pd.DataFrame, names) -> pd.DataFrame:
    """Return the candidates of :func:`results` sorted by rank (ties in evaluation order).

    Columns: the hyperparameters ``names`` (from ``param_<name>``), then
    ``mean CV acc``, ``std`` (over the folds) and ``rank``.

    >>> t = pd.DataFrame({"param_a": [1, 2], "mean_test_score": [0.5, 0.75], "std_test_score": [0.1, 0.2],
    ...                   "rank_test_score": [2, 1]})
    >>> ranking(t, ["a"]).a.tolist()
    [2, 1]
    """
    names = list(names)
    shown = table[[f"param_{name}" for name in names] + ["mean_test_score", "std_test_score", "rank_test_score"]]
    shown = shown.sort_values("rank_test_score", kind="stable")
    shown.columns = names + ["mean CV acc", "std", "rank"]
    return shown


def distinct(table: pd.DataFrame, names) -> dict:
    """Return ``{name: number of different values tried}`` for each hyperparameter ``names`` of :func:`results`.

    >>> distinct(pd.DataFrame({"param_a": [1, 1, 3]}), ["a"])
    {'a': 2}
    """
    return {name: table[f"param_{name}"].nunique() for name in names}


def summary(search, X_test, y_test) -> dict:
    """Return what the chapter records of a fitted search.

    ``best_params`` (whole numbers), ``cv_accuracy`` (``best_score_`` to four
    decimals) and ``test_accuracy`` (the refitted model's score on the test rows,
    three decimals).
    """
    return {"best_params": {k: int(v) for k, v in search.best_params_.items()},
            "cv_accuracy": round(float(search.best_score_), 4),
            "test_accuracy": round(float(search.score(X_test, y_test)), 3)}


def plot_progress(tables: dict, by: str, figsize=(11, 3.6)):
    """Draw two panels for searches ``{label: results table}`` and return the figure.

    Left: the best mean CV score among the first 1, 2, … candidates (a running
    maximum, in each table's order); right: every candidate's mean CV score
    against the hyperparameter ``by``, the searches side by side (shifted by
    ``±0.15``). The first search is drawn solid, the others dashed.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=figsize)
    for k, (label, table) in enumerate(tables.items()):
        scores = table.mean_test_score.to_numpy()
        style = "-" if k == 0 else "--"
        axes[0].plot(np.arange(1, len(scores) + 1), np.maximum.accumulate(scores), style, drawstyle="steps-post",
                     label=label)
        axes[1].scatter(table[f"param_{by}"].astype(int) + (-0.15 if k == 0 else 0.15), scores, s=12, label=label)
    axes[0].set(xlabel="candidates evaluated", ylabel="best mean CV accuracy so far", title="best so far")
    axes[1].set(xlabel=by, ylabel="mean CV accuracy", title=f"every candidate, by {by}")
    for ax in axes:
        ax.legend(fontsize=7)
    return fig
