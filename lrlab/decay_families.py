"""Each decay family trained on the seed-001 task in both frameworks, and how its end point reads (chapter 2).

Every family (a constant rate, step, exponential, inverse-time, cosine, warmup,
restarts, cyclic, one-cycle, reduce-on-plateau) trains the same 20-64-32-1
network from the same initial weights and batches with Adam; the functions here
run them, tabulate where each ended, draw the validation curves and say how far
the families' end points lie apart beside the frameworks' own gap:

* :func:`train` — one ``fit`` per family and framework;
* :func:`final_table` — the last epoch's validation loss and accuracy per family;
* :func:`plot_val_loss` — validation loss per epoch, one panel per framework;
* :func:`late_moves` — how much each run's validation loss still moves at the end;
* :func:`summary_lines` — the printed reading of the table;
* :func:`glued` — the numbers the chapter's prose quotes.

A run still moving at the end is measured by the range of its last epochs'
validation losses (``np.ptp``):

>>> import pandas as pd
>>> history = pd.DataFrame({"val_loss": [0.9, 0.5, 0.4, 0.45, 0.41, 0.43, 0.42]})
>>> round(late_moves({("constant", "tf"): history}, ["constant"], ["tf"])["tf"]["constant"], 6)
0.05
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["glued", "final_table", "late_moves", "plot_val_loss", "summary_lines", "train"]


def train(backends: dict, families: dict, train_rows, val_rows, *, epochs: int, batch_size: int, seed: int) -> dict:
    """Return ``{(family, framework): history}``: Adam on a 20-64-32-1 MLP under each family's rate.

    ``families`` maps a name to a float or an lrlab schedule; the family named
    ``"plateau"`` also gets the backend's ``ReduceLROnPlateau`` (halve after 2
    epochs in which the validation loss improves by less than ``1e-3``).
    """
    histories = {}
    for family, lr in families.items():
        for name, backend in backends.items():
            callbacks = [backend.ReduceLROnPlateau("val_loss", factor=0.5, patience=2, threshold=1e-3)] \
                if family == "plateau" else []
            model = backend.mlp([20, 64, 32, 1], seed=seed)
            histories[family, name] = backend.fit(model, train_rows, val_rows, optimizer=backend.optimizer("adam", lr),
                                                  loss="binary_crossentropy", epochs=epochs, batch_size=batch_size,
                                                  seed=seed, callbacks=callbacks)
    return histories


def final_table(histories: dict, families, frameworks) -> pd.DataFrame:
    """Return one row per family: each framework's last validation loss and accuracy (3 decimals) and their gap."""
    rows = []
    for family in families:
        row = {"family": family}
        for name in frameworks:
            last = histories[family, name].iloc[-1]
            row[f"{name} val_loss"] = round(float(last.val_loss), 3)
            row[f"{name} val_acc"] = round(float(last.val_accuracy), 3)
        if len(frameworks) == 2:
            row["|Δ val_loss|"] = round(abs(row["tf val_loss"] - row["torch val_loss"]), 3)
        rows.append(row)
    return pd.DataFrame(rows)


def plot_val_loss(histories: dict, families, frameworks):
    """Draw each family's validation loss per epoch (log scale), one panel per framework; return the axes."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(frameworks), figsize=(5.2 * len(frameworks), 3.6), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], frameworks):
        for i, family in enumerate(families):
            history = histories[family, name]
            ax.plot(history.epoch, history.val_loss, color=f"C{i}", lw=1.2, label=family)
        ax.set(title=f"{name}: validation loss", xlabel="epoch", yscale="log")
    axes[0][0].set_ylabel("binary cross-entropy")
    axes[0][-1].legend(fontsize=6.5, ncol=2)
    fig.tight_layout()
    return axes


def late_moves(histories: dict, families, frameworks, last: int = 5) -> dict:
    """Return ``{framework: {family: max − min of the validation loss over the last ``last`` epochs}}``."""
    return {name: {family: float(np.ptp(histories[family, name].val_loss.to_numpy()[-last:])) for family in families}
            for name in frameworks}


def summary_lines(results: pd.DataFrame, moves: dict, frameworks) -> list[str]:
    """Return the reading of :func:`final_table` (first row: the constant rate) beside :func:`late_moves`.

    Per framework: where the constant rate ended and the range of the scheduled
    families, the families that do not end below the constant rate, the
    frameworks' gap on one family, and how much the validation loss still moves
    over the last 5 epochs at the constant rate and (median) under the schedules.
    """
    decaying = results[results.family != "constant"]
    lines = []
    for name in frameworks:
        column = decaying[f"{name} val_loss"]
        lines.append(f"{name}: constant LR ends at val_loss {results[f'{name} val_loss'].iloc[0]:.3f}; the scheduled "
                     f"families at {column.min():.3f}–{column.max():.3f} (best: {decaying.family[column.idxmin()]})")
    for name in frameworks:
        above = decaying.family[decaying[f"{name} val_loss"] >= results[f"{name} val_loss"].iloc[0]].tolist()
        lines.append(f"{name}: scheduled families that do not end below the constant LR: {', '.join(above) or 'none'}")
    if len(frameworks) == 2:
        lines.append(f"tf–torch gap for one family: constant {results['|Δ val_loss|'].iloc[0]:.3f}, "
                     f"scheduled families up to {decaying['|Δ val_loss|'].max():.3f}")
    for name in frameworks:
        median = np.median([v for f, v in moves[name].items() if f != "constant"])
        lines.append(f"{name}: val_loss moves over the last 5 epochs by {moves[name]['constant']:.3f} at a constant "
                     f"LR, by {median:.3f} (median) under the schedules")
    return lines


def glued(results: pd.DataFrame, moves: dict, cuts: dict, frameworks, late=("exponential (to 1 %)",
                                                                          "cosine restarts")) -> dict:
    """Return the numbers chapter 2's prose quotes, by glue name (``c2_…``).

    ``cuts`` maps each framework to the plateau callback's number of cuts.
    ``late`` names the two families that end clearly higher; the others are
    "settled" (``c2_settled_lo``/``_hi``), those two are glued as ``c2_exp``
    and ``c2_restarts`` (the larger of the frameworks' values).
    """
    decaying = results[results.family != "constant"]
    settled = decaying[~decaying.family.isin(list(late))]
    values = {}
    for name in frameworks:
        values[f"c2_const_{name}"] = float(results[f"{name} val_loss"].iloc[0])
        values[f"c2_cuts_{name}"] = cuts[name]
    values["c2_const_move"] = min(moves[name]["constant"] for name in frameworks)
    values["c2_sched_move"] = max(np.median([v for f, v in moves[name].items() if f != "constant"])
                                  for name in frameworks)
    values["c2_fw_gap"] = float(decaying["|Δ val_loss|"].max()) if len(frameworks) == 2 else 0.0
    values["c2_settled_lo"] = min(float(settled[f"{name} val_loss"].min()) for name in frameworks)
    values["c2_settled_hi"] = max(float(settled[f"{name} val_loss"].max()) for name in frameworks)
    for key, family in zip(("c2_exp", "c2_restarts"), late):
        values[key] = max(float(results.loc[results.family == family, f"{name} val_loss"].item())
                          for name in frameworks)
    return values
