"""Too large and too small a learning rate, run by run: the mechanics of the small-learning-rate chapter (C004-1).

The chapter trains one network at learning rates half a decade apart, a few seeds
each, and reads every run epoch by epoch (training loss, validation loss, their
gap) and, for the first epochs, update by update (the batch-gradient norm). This
module does the bookkeeping between the framework's runs and the chapter's rules:

* :func:`seed_histories` — one ``fit_many`` history per seed, stacked, with the
  seed and the generalisation gap (validation minus training loss) as columns;
* :func:`end_agreement` — the line saying whether two frameworks' runs ended alike;
* :func:`trainable` — which rates train (mean final training loss below a cut) and
  the per-rate table a reader sees, with a broken-down rate printed as a category;
* :func:`gradient_traces` — :func:`lrlab.gradients.sgd_trace` for every framework,
  seed and rate, with each run's gradient growth in decades;
* :func:`plot_gradient_norms` and :func:`plot_gap_vs_fit` — the chapter's two figures.

The per-run measures themselves (loss at an epoch, epochs to a target loss, the
share of rising epochs, …) are :func:`lrlab.part_checks.run_summary`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from lrlab import gradients, training
from lrlab.params import ParameterError

__all__ = ["end_agreement", "gradient_traces", "plot_gap_vs_fit", "plot_gradient_norms", "seed_histories",
           "trainable"]

#: the columns of :func:`lrlab.part_checks.run_summary` that :func:`trainable` averages per rate
MEANS = ["final loss", "loss at E", "rising share", "progress"]


def seed_histories(run: Callable[[int], pd.DataFrame], seeds: Sequence[int]) -> pd.DataFrame:
    """Return ``run(seed)``'s epoch-by-epoch history for every seed, stacked, with ``seed`` and ``gap`` columns.

    ``run`` trains the models of one seed (one ``fit_many`` call) and returns
    its history; ``gap`` is ``val_loss - loss`` (in nats for a cross-entropy).
    The histories' ``attrs`` are dropped (they would differ from seed to seed).

    >>> def run(seed):  # a stand-in for one fit_many call
    ...     return pd.DataFrame({"lr": [0.1], "epoch": [0], "loss": [0.5], "val_loss": [0.75 + seed]})
    >>> seed_histories(run, [0, 1])[["seed", "gap"]].to_numpy().tolist()
    [[0.0, 0.25], [1.0, 1.25]]
    """
    parts = []
    for s in seeds:
        history = run(s)
        history.attrs = {}
        parts.append(history.assign(seed=s))
    if not parts:
        raise ParameterError("seeds is empty; expected at least one seed")
    runs = pd.concat(parts, ignore_index=True)
    return runs.assign(gap=runs.val_loss - runs.loss)


def end_agreement(histories: Mapping[str, pd.DataFrame], tol: float = 1e-3) -> str:
    """Return the line saying whether two frameworks' runs (paired by seed and rate) ended alike.

    Two claims: every run trained the same number of epochs and ended the same
    way (``status`` of its last epoch: trained or diverged); and the number of
    runs, among those that did not diverge, whose final validation loss agrees
    within ``tol``.

    >>> h = pd.DataFrame({"seed": [0, 0], "lr": [0.1, 9.0], "epoch": [0, 0], "status": ["ok", "diverged"],
    ...                   "val_loss": [0.2, float("nan")]})
    >>> for line in end_agreement({"tf": h, "torch": h}).split("; "):
    ...     print(line)
    tf vs torch: same epochs and end (trained/diverged) for every run: True
    final val loss agrees to 1e-3 for 1 of the 1 runs that did not diverge
    """
    if len(histories) != 2:
        raise ParameterError(f"histories has {len(histories)} frameworks; end_agreement pairs exactly two")
    (first, a), (second, b) = ((name, h.groupby(["seed", "lr"])) for name, h in histories.items())
    same = (a.size() == b.size()).all() and (a.status.last() == b.status.last()).all()
    gap = (a.val_loss.last() - b.val_loss.last()).abs().dropna()
    tolerance = f"{tol:.0e}".replace("e-0", "e-").replace("e+0", "e+")  # 1e-3, as the prose writes it
    return (f"{first} vs {second}: same epochs and end (trained/diverged) for every run: {bool(same)}; final val "
            f"loss agrees to {tolerance} for {int((gap <= tol).sum())} of the {len(gap)} runs that did not diverge")


def trainable(summary: pd.DataFrame, lrs: Sequence[float], below: float) -> tuple[list, pd.DataFrame]:
    """Return the rates that train and the per-rate table of means over seeds.

    A rate **trains** when its mean (over seeds) ``final loss`` in ``summary``
    (:func:`lrlab.part_checks.run_summary`) is below ``below``. The table has
    the seed means of :data:`MEANS` (three decimals) and the number of seeds
    that ``diverged``; a rate that does not train shows ``"diverged"`` (if a seed
    diverged) or ``"at chance"`` in place of its numbers: where a run that broke
    down ends depends on the CPU's last-bit rounding, so it is printed as a
    category.
    """
    means = summary.groupby("lr")[MEANS].mean()
    good = [lr for lr in lrs if means.loc[lr, "final loss"] < below]
    shown = means.astype(object).assign(diverged=summary.groupby("lr").diverged.sum())
    for lr in lrs:
        shown.loc[lr, MEANS] = (list(means.loc[lr].map(lambda v: f"{v:.3f}")) if lr in good
                                else ["diverged" if shown.loc[lr, "diverged"] else "at chance"] + ["-"] * 3)
    return good, shown


def gradient_traces(frameworks: Sequence[str], spec, train, lrs: Sequence[float], seeds: Sequence[int], *,
                    epochs: int, batch_size: int, loss: str, cap: float = 6.0) -> pd.DataFrame:
    """Return :func:`lrlab.gradients.sgd_trace` of every framework, seed and rate, stacked, with each run's growth.

    Seed ``s`` draws the initial weights (:func:`lrlab.training.initial_weights`)
    and the batch order, the same for every rate. Columns added: ``framework``,
    ``seed``, ``lr`` and ``growth``, the run's gradient growth in decades,
    :math:`\\min(\\log_{10}(\\max_k \\lVert g_k \\rVert / \\lVert g_0 \\rVert), \\text{cap})`
    (a norm that overflows counts as ``cap`` decades).
    """
    traces = []
    for name in frameworks:
        for s in seeds:
            w0 = training.initial_weights(spec, s)
            for lr in lrs:
                t = gradients.sgd_trace(name, spec, w0, train, lr=lr, loss=loss, epochs=epochs, batch_size=batch_size,
                                        seed=s)
                growth = min(np.log10(t.grad_norm.max() / t.grad_norm.iloc[0]), cap)
                traces.append(t.assign(framework=name, seed=s, lr=lr, growth=growth))
    return pd.concat(traces, ignore_index=True)


def plot_gradient_norms(traces: pd.DataFrame, frameworks: Sequence[str], lrs: Sequence[float], seed: int,
                        too_large: Mapping[str, Sequence[float]]):
    """Draw one seed's batch-gradient norm update by update, one panel per framework, one curve per rate.

    ``traces`` is :func:`gradient_traces`' table; a rate in ``too_large[framework]``
    is marked so in the legend. Returns the figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(frameworks), figsize=(5.5 * len(frameworks), 3.8), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], frameworks):
        for i, lr in enumerate(lrs):
            t = traces[(traces.framework == name) & (traces.lr == lr) & (traces.seed == seed)]
            ax.semilogy(t["update"], t.grad_norm, color=f"C{i}", lw=1, label=f"lr {lr:g}"
                        + (" (too large)" if lr in too_large[name] else ""))
        ax.set(xlabel="update", title=f"{name}, seed {seed}: batch gradient norm")
    axes[0][0].set(ylabel="|g| (all weights)")
    axes[0][0].legend(fontsize=7)
    return fig


def plot_gap_vs_fit(runs: pd.DataFrame, lrs: Sequence[float], equal_epochs: int, target_loss: float, label: str):
    """Draw the seed-mean losses against the epoch (left) and the gap against the training loss reached (right).

    ``runs`` is :func:`seed_histories`' table of one framework; one colour per
    rate in ``lrs``. Left: training loss (dashed) and validation loss (solid),
    log scale, with the epoch ``equal_epochs`` marked. Right: the gap (validation
    minus training loss) against the training loss on a reversed log axis (training
    goes on to the right), with ``target_loss`` marked. ``label`` names the runs
    in the left title. Returns the figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, lr in enumerate(lrs):
        part = runs[runs.lr == lr].groupby("epoch")[["loss", "val_loss", "gap"]].mean()
        axes[0].semilogy(part.index + 1, part.loss, color=f"C{i}", ls="--", lw=1)
        axes[0].semilogy(part.index + 1, part.val_loss, color=f"C{i}", label=f"lr {lr:g}")
        axes[1].plot(part.loss, part.gap, color=f"C{i}", label=f"lr {lr:g}")
    axes[0].axvline(equal_epochs, color="grey", ls=":", lw=1)
    axes[0].set(xlabel="epoch", ylabel="loss (dashed: train, solid: val)", title=label)
    axes[1].axvline(target_loss, color="grey", ls=":", lw=1)
    axes[1].set(xscale="log", xlabel="training loss (log, falling as training goes on →)",
                ylabel="val loss − train loss", title="the gap against the fit reached")
    axes[1].invert_xaxis()
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    return fig

