"""Grids of learning rates on the digits MLP (chapter 5): the U, its plateau and cliff, folds, decay schedules.

Seed rows E000-5 (a log grid of learning rates, the best chosen on validation
data), E002-6 (the choice by k-fold cross-validation) and C001-2a (a grid over
an exponential decay's three parameters). The runs go through a
:class:`lrlab.digits_mlp.DigitsMLP`; this module reads them:

* the U of validation loss against a constant rate (:func:`grid_text`,
  :func:`u_summary`, :func:`plot_u`): the best rate, the plateau within 25 % of
  its loss, and the first *failing* rate above it (:func:`failed`: diverged, or
  a validation loss at or above ``ln 10``, what a network scores that gives
  every digit the same probability);
* what a failed run did to its hidden layer (:func:`hidden_activity`);
* k-fold cross-validation on the pooled training and validation rows
  (:func:`cross_validate`, :func:`cv_summary`, :func:`cv_text`,
  :func:`choice_lines`, :func:`plot_folds`);
* the grid over exponential decays ``η_k = η_0 · r^(k/s)``
  (:func:`decay_schedule`, :func:`decay_objective`, :func:`decay_table`,
  :func:`winners_text`).

>>> f = pd.DataFrame({"lr": [0.1, 1.0, 3.0, 10.0], "val_loss": [0.5, 0.2, 2.4, 1.0],
...                   "status": ["ok", "ok", "ok", "diverged"]})
>>> failed(f).tolist(), first_failure(f), near_best(f, 2.5).tolist()
([False, False, True, True], 3.0, [0.1, 1.0])
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lrlab import schedules
from lrlab.plots import heatmap, overlay

__all__ = ["CHANCE_LOSS", "best_lr", "choice_lines", "cross_validate", "cv_record", "cv_summary", "cv_text",
           "decay_line", "decay_objective", "decay_schedule", "decay_table", "failed", "first_failure", "grid_text",
           "hidden_activity", "near_best", "plot_decay", "plot_folds", "plot_u", "u_summary", "winners_text"]

#: the loss of a network that gives each of the ten digits the same probability, ``ln 10``
CHANCE_LOSS = math.log(10)


def failed(final: pd.DataFrame, chance: float = CHANCE_LOSS) -> pd.Series:
    """Return which runs failed: diverged (``status``), or ended at a validation loss of at least ``chance``."""
    return (final.status == "diverged") | (final.val_loss >= chance)


def near_best(final: pd.DataFrame, factor: float = 1.25) -> pd.Series:
    """Return the learning rates whose final validation loss is at most ``factor`` × the best (the plateau)."""
    return final.lr[final.val_loss <= factor * final.val_loss.min()]


def first_failure(final: pd.DataFrame) -> float:
    """Return the smallest failing rate above the best one (:func:`failed`), NaN if none fails."""
    best = final.loc[final.val_loss.idxmin()]
    too_large = final[(final.lr > best.lr) & failed(final)]
    return float(too_large.lr.min()) if len(too_large) else np.nan


def best_lr(table: pd.DataFrame, column: str = "val_loss") -> float:
    """Return the ``lr`` of the row with the lowest ``column``."""
    return float(table.loc[table[column].idxmin(), "lr"])


def grid_text(finals: dict) -> str:
    """Return a small grid's table (val loss to 3 decimals, accuracy in %) and each framework's best rate."""
    first = next(iter(finals.values()))
    table = pd.DataFrame({"lr": [f"{lr:g}" for lr in first.lr]})
    for name, part in finals.items():
        table[f"{name} val loss"] = part.val_loss.map(lambda v: f"{v:.3f}").to_numpy()
        table[f"{name} val acc %"] = (100 * part.val_accuracy).map(lambda v: f"{v:.1f}").to_numpy()
    lines = [table.to_string(index=False)]
    for name, part in finals.items():
        best = part.loc[part.val_loss.idxmin()]
        lines.append(f"{name:>5}: best of the seed's grid: lr {best.lr:g} (val loss {best.val_loss:.3f}, "
                     f"accuracy {100 * best.val_accuracy:.1f} %)")
    return "\n".join(lines)


def u_summary(finals: dict, grids: dict) -> pd.DataFrame:
    """Return one row per framework: best rate and loss, the plateau (25 %), first failing rate, divergences.

    ``finals`` maps a framework to :func:`lrlab.digits_mlp.final_rows` of the
    grid, ``grids`` to its full history (for the largest first-epoch loss).
    Every cell is text, as printed.
    """
    rows = []
    for name, f in finals.items():
        best, band = f.loc[f.val_loss.idxmin()], near_best(f)
        rows.append({"framework": name, "best lr": f"{best.lr:.2g}", "best val loss": f"{best.val_loss:.3f}",
                     "within 25 % of best": f"{band.min():.2g} to {band.max():.2g}",
                     "fails from": f"{first_failure(f):.2g}", "diverged (NaN/inf)": int((f.status == "diverged").sum()),
                     "largest epoch-0 loss": f"{grids[name][grids[name].epoch == 0].loss.max():.3g}"})
    return pd.DataFrame(rows)


def plot_u(finals: dict, fail_from: float, marked, start_loss: float, epochs: int):
    """Draw validation loss (left) and accuracy (right) against the rate per framework; return the axes.

    The failing region from ``fail_from`` on is shaded, the rates ``marked``
    (the seed's grid) dotted, the untrained network's loss a black line.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    frames = {name: f.assign(acc=100 * f.val_accuracy) for name, f in finals.items()}
    overlay(frames, "lr", "val_loss", ax=axes[0], logx=True, label=f"{{framework}}: val loss after {epochs} epochs")
    overlay(frames, "lr", "acc", ax=axes[1], logx=True, label="{framework}: val accuracy")
    right = max(f.lr.max() for f in finals.values()) * 1.5
    for ax in axes:
        ax.axvspan(fail_from, right, color="red", alpha=0.08, label="fails (diverging region)")
        for lr in marked:
            ax.axvline(lr, color="grey", lw=0.6, ls=":")
        ax.set(xlabel="learning rate (dotted: the seed's five)")
    axes[0].axhline(start_loss, color="k", lw=0.8, label="untrained network")
    axes[0].set(ylabel="validation loss", title="the U: too slow on the left, failing on the right")
    axes[1].set(ylabel="validation accuracy (%)", title="the same runs, accuracy")
    for ax in axes:
        ax.legend(fontsize=7)
    return axes


def hidden_activity(backend, model, x) -> tuple[int, float]:
    """Return ``(alive, spread)``: hidden ReLU units that fire for at least one row of ``x``, and the outputs' range.

    ``spread`` is the largest standard deviation over the rows of one output:
    0 when the network gives every row the same output.
    """
    kernel, bias = backend.weights(model)[0]
    alive = int((np.maximum(x @ kernel + bias, 0) > 0).any(axis=0).sum())
    return alive, float(backend.predict(model, x).std(axis=0).max())


def cross_validate(lab, lrs, epochs: int, folds: int) -> pd.DataFrame:
    """Return one row per fold, framework and rate: the final held-out loss and accuracy of k-fold CV.

    The training and validation rows are pooled (:meth:`DigitsMLP.pooled`) and
    cut by scikit-learn's ``StratifiedKFold(folds, shuffle=True,
    random_state=lab.seed)``; on each fold every framework trains all ``lrs``
    in one ``fit_many`` call on the other folds and validates on the fold.
    """
    from sklearn.model_selection import StratifiedKFold

    x, y = lab.pooled()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=lab.seed)
    rows = []
    for fold, (fit_idx, held_idx) in enumerate(splitter.split(x, y.argmax(axis=1))):
        for name, b in lab.backends.items():
            last = lab.finals(b, [{"lr": lr} for lr in lrs], epochs, (x[fit_idx], y[fit_idx]),
                              (x[held_idx], y[held_idx]))
            rows += [{"framework": name, "fold": fold, "lr": lr, "val_loss": row.val_loss,
                      "val_accuracy": row.val_accuracy} for lr, row in zip(lrs, last.itertuples())]
    return pd.DataFrame(rows)


def cv_summary(cv: pd.DataFrame) -> pd.DataFrame:
    """Return per framework and rate the mean, std, min and max held-out loss over the folds, and the mean accuracy."""
    return cv.groupby(["framework", "lr"]).agg(mean_loss=("val_loss", "mean"), std_loss=("val_loss", "std"),
                                               min_loss=("val_loss", "min"), max_loss=("val_loss", "max"),
                                               mean_acc=("val_accuracy", "mean")).reset_index()


def cv_text(summary: pd.DataFrame) -> str:
    """Return :func:`cv_summary` as text: losses to 3 decimals, accuracy in % to 1."""
    losses = {c: summary[c].map(lambda v: f"{v:.3f}") for c in ("mean_loss", "std_loss", "min_loss", "max_loss")}
    return summary.assign(**losses, mean_acc=(100 * summary.mean_acc).map(lambda v: f"{v:.1f}")).to_string(index=False)


def choice_lines(cv: pd.DataFrame, cv_choice: dict, single: dict) -> str:
    """Return per framework the rate CV chooses, the one the single split chooses, and the best rate fold by fold."""
    per_fold = cv.loc[cv.groupby(["framework", "fold"]).val_loss.idxmin()].groupby("framework").lr.apply(list)
    return "\n".join(f"{name:>5}: cross-validation chooses lr {cv_choice[name]:g}; the single train/val split chooses "
                     f"{single[name]:g} among the same rates; best rate fold by fold: "
                     + ", ".join(f"{v:g}" for v in per_fold[name]) for name in cv_choice)


def cv_record(summary: pd.DataFrame, cv_choice: dict) -> dict:
    """Return ``{framework: {"choice": lr, "mean_loss": {lr: loss to 4 decimals}}}`` for :func:`lrlab.record`."""
    return {name: {"choice": choice, "mean_loss": {
        f"{lr:g}": round(float(v), 4)
        for lr, v in summary[summary.framework == name][["lr", "mean_loss"]].itertuples(index=False)}}
        for name, choice in cv_choice.items()}


def plot_folds(cv: pd.DataFrame, summary: pd.DataFrame, *, ylabel: str, title: str):
    """Draw each fold's held-out loss against the rate (faint) and each framework's mean ± std; return the axes."""
    import matplotlib.pyplot as plt

    ax = plt.subplots(figsize=(7, 3.6))[1]
    for i, (_, part) in enumerate(cv.groupby("framework", sort=False)):
        for fold, fp in part.groupby("fold"):
            ax.plot(fp.lr, fp.val_loss, color=f"C{fold + 2}", alpha=0.6, ls="-" if i == 0 else "--",
                    label=f"fold {fold}" if i == 0 else None)
    overlay({name: s for name, s in summary.groupby("framework", sort=False)}, "lr", "mean_loss", ax=ax,
            yerr="std_loss", logx=True, label="{framework}: mean ± std over folds")
    ax.set(ylabel=ylabel, xlabel="learning rate", title=title)
    ax.legend(fontsize=7, ncol=2)
    return ax


def decay_schedule(point: dict) -> schedules.Schedule:
    """Return the exponential decay ``η_k = initial_lr · decay_rate^(k / decay_steps)`` of a grid point."""
    return schedules.make("exponential", initial_lr=point["initial_lr"], decay_steps=point["decay_steps"],
                          decay_rate=point["decay_rate"])


def decay_objective(lab, backend, epochs: int):
    """Return an objective for :func:`lrlab.search.run_batched`: trains a batch of decays at once, returns val losses.

    A run that did not end ``"ok"`` (it diverged) scores NaN: a failed trial.
    """
    def objective(points):
        last = lab.finals(backend, [{"lr": decay_schedule(p)} for p in points], epochs)
        return [{"value": r.val_loss if r.status == "ok" else float("nan"), "val_accuracy": r.val_accuracy}
                for r in last.itertuples()]
    return objective


def decay_table(trials: pd.DataFrame, updates_per_epoch: int) -> pd.DataFrame:
    """Return the decay grid's validation losses for :func:`lrlab.plots.heatmap`: a row per steps and rate.

    Rows read ``"340 (10 ep.), × 0.1"`` (decay steps, in epochs, and decay
    rate), ordered by steps then rate; columns are the initial rates.
    """
    table = trials.pivot_table(index=["decay_steps", "decay_rate"], columns="initial_lr", values="value",
                               dropna=False).sort_index()
    table.index = [f"{s} ({s / updates_per_epoch:g} ep.), × {r:g}" for s, r in table.index]
    table.index.name, table.columns.name = "decay steps, decay rate", "initial learning rate"
    return table


def plot_decay(table: pd.DataFrame, start_loss: float, label: str):
    """Draw :func:`decay_table` as a heat map, best of each column framed; return its axes.

    Colours are capped at the untrained network's loss rounded to 2 digits, and
    a cell above that cap reads ``"> cap"`` (worse than not training at all).
    """
    import matplotlib.pyplot as plt

    cut = float(f"{start_loss:.2g}")
    ax = plt.subplots(figsize=(5.6, 4.2), layout="constrained")[1]
    heatmap(table, ax=ax, cap=cut, failed_above=cut, label=label, digits=2, title="C001-2: the decay grid")
    return ax


def winners_text(result, constant: pd.Series, n_constant: int) -> str:
    """Return the two winners in words: the grid's best decay and the best of the ``n_constant`` constant rates."""
    bp = result.best_params
    return (f"grid of {len(result.trials)} schedules picks lr0 {bp['initial_lr']:g}, rate {bp['decay_rate']:g}, "
            f"steps {bp['decay_steps']}; best of {n_constant} constant rates {constant.lr:.2g}")


def decay_line(name: str, result, constant: pd.Series) -> str:
    """Return one framework's decay grid in a line: its best schedule and loss beside the best constant rate's."""
    best = result.best_params
    return (f"{name:>5}: {result.n_trials} schedules; best: initial lr {best['initial_lr']:g}, rate "
            f"{best['decay_rate']:g}, steps {best['decay_steps']} (val loss {result.best_value:.3f}); best constant "
            f"rate {constant.lr:.2g}: {constant.val_loss:.3f}; failed: {int((result.trials.state == 'FAIL').sum())}")
