"""Chapter 3's figures: seed 001's two programs, their twins, the harmonised pair and the tuning tips.

Every figure draws TensorFlow solid and PyTorch dashed (:data:`LINE`) and returns
its axes; the caller shows it. The inputs are the chapter's own results:

* :func:`plot_e001_1` — accuracy and validation accuracy per epoch (E001-1 and its twin);
* :func:`plot_e001_2` — full-batch training loss per epoch beside ``ln 2`` (E001-2 and its twin);
* :func:`plot_designs` — the rate each design's last update of an epoch uses (E001-3);
* :func:`plot_harmonised` — losses and validation accuracy of the harmonised pair;
* :func:`plot_lr_runs` — validation loss of every seed, one panel per initial rate;
* :func:`plot_early_stop` — one run's validation loss with its best and stopping epochs (C001-2c);
* :func:`plot_finetune` — test accuracy on the new and the old task after fine-tuning (C001-2d).

>>> LINE["torch"]
'--'
"""

from __future__ import annotations

import numpy as np

__all__ = ["LINE", "plot_designs", "plot_e001_1", "plot_e001_2", "plot_early_stop", "plot_finetune",
           "plot_harmonised", "plot_lr_runs"]

#: the line style of each framework in every figure of the chapter
LINE = {"tf": "-", "torch": "--"}


def _axes(figsize=(7, 3.4)):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def plot_e001_1(runs: dict):
    """Draw ``accuracy`` and ``val_accuracy`` per epoch of each framework's run (``{framework: history}``)."""
    ax = _axes()
    for name, h in runs.items():
        ax.plot(h.accuracy, LINE[name], color="C0", label=f"{name}: accuracy")
        ax.plot(h.val_accuracy, LINE[name], color="C1", label=f"{name}: val_accuracy")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0.4, 1.02), title="E001-1 as written (Keras) and its PyTorch twin")
    ax.legend(fontsize=8)
    return ax


def plot_e001_2(runs: dict):
    """Draw each framework's full-batch training ``loss`` per epoch, with ``ln 2`` (a constant output) in grey."""
    ax = _axes()
    for name, run in runs.items():
        ax.plot(run["loss"], LINE[name], label=f"{name}: training loss (full batch)")
    ax.axhline(np.log(2), color="0.6", lw=0.8, label="ln 2: a constant output")
    ax.set(xlabel="epoch", ylabel="training loss", title="E001-2 as written (PyTorch) and its Keras twin")
    ax.legend(fontsize=8)
    return ax


def plot_designs(per_update, per_epoch, epochs: int, updates_per_epoch: int, initial_lr: float, decay_rate: float):
    """Draw, per epoch, the rate of its last update under E001-1's per-update schedule and E001-2's per-epoch one."""
    ax = _axes()
    epoch_axis = np.arange(epochs)
    ax.step(epoch_axis, per_update(epoch_axis * updates_per_epoch + updates_per_epoch - 1), where="post",
            label="E001-1: ExponentialDecay(staircase) per update")
    ax.plot(epoch_axis, per_epoch(epoch_axis), label="E001-2: ExponentialLR per epoch")
    ax.set(xlabel="epoch", ylabel="learning rate (last update of the epoch)", yscale="log",
           title=f"The same two numbers, {initial_lr:g} and {decay_rate:g}, give two schedules")
    ax.legend()
    return ax


def plot_harmonised(histories: dict):
    """Draw the harmonised pair: training and validation loss (left, log), validation accuracy (right)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, history in histories.items():
        axes[0].plot(history.epoch, history.loss, LINE[name], label=f"{name}: training loss")
        axes[0].plot(history.epoch, history.val_loss, LINE[name], label=f"{name}: validation loss")
        axes[1].plot(history.epoch, history.val_accuracy, LINE[name], label=f"{name}: validation accuracy")
    axes[0].set(xlabel="epoch", ylabel="binary cross-entropy", yscale="log",
                title="harmonised pair (solid tf, dashed torch)")
    axes[1].set(xlabel="epoch", ylabel="accuracy", ylim=(0.4, 1.0))
    for ax in axes:
        ax.legend(fontsize=8)
    return axes


def plot_lr_runs(runs, lrs, seed: int):
    """Draw every run's validation loss per epoch (log), one panel per initial rate, one colour per seed."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(lrs), figsize=(3.6 * len(lrs), 3.4), sharey=True, squeeze=False)
    for ax, lr in zip(axes[0], lrs):
        for (name, _), h in runs[runs.lr0 == lr].groupby(["framework", "model"]):
            r = int(h.init_seed.iloc[0]) - seed
            ax.plot(h.epoch, h.val_loss, LINE[name], color=f"C{r % 10}", lw=0.8,
                    label=f"{name}, init seed {seed + r}" if lr == lrs[0] and r < 3 else None)
        ax.set(title=f"Adam from lr {lr:g}", xlabel="epoch", yscale="log")
    axes[0][0].set_ylabel("validation loss")
    axes[0][0].legend(fontsize=7)
    return axes


def plot_early_stop(runs, stopped: dict, lr: float, seed: int, epochs: int):
    """Draw the run from ``lr`` and ``seed`` per framework, with the epoch early stopping restored and where it stopped.

    ``stopped`` maps a framework to ``{"best epoch": …, "stopped at epoch": …}``
    (None: it never stopped, drawn at the last epoch).
    """
    ax = _axes()
    for name in stopped:
        full = runs.query("framework == @name and lr0 == @lr and init_seed == @seed")
        ax.plot(full.epoch, full.val_loss, LINE[name], color="C0", label=f"{name}: validation loss, all epochs")
        ax.axvline(stopped[name]["best epoch"], color="C2", ls=LINE[name], label=f"{name}: best epoch (checkpoint)")
        ax.axvline(stopped[name]["stopped at epoch"] or epochs - 1, color="C3", ls=LINE[name],
                   label=f"{name}: early stop")
    ax.set(xlabel="epoch", ylabel="validation loss", yscale="log", title=f"Adam from lr {lr:g}")
    ax.legend(fontsize=7)
    return ax


def plot_finetune(table, runs, frameworks):
    """Draw the mean new-task test accuracy of each fine-tuning run as bars (seed std as error bars), old task as dots.

    ``table`` is the chapter's per-framework, per-run mean/std table; ``runs``
    the run names in order.
    """
    ax = _axes()
    width = 0.8 / len(frameworks)
    for i, name in enumerate(frameworks):
        part = table.loc[name].loc[runs]
        x = np.arange(len(runs)) + i * width
        ax.bar(x, part["new-task test accuracy", "mean"], width * 0.9, yerr=part["new-task test accuracy", "std"],
               label=f"{name}: new task", color="C0", alpha=0.6 + 0.4 * i)
        ax.plot(x, part["old-task test accuracy", "mean"], "o", color="C3",
                label=f"{name}: old task" if i == 0 else None)
    ax.set_xticks(np.arange(len(runs)) + width * (len(frameworks) - 1) / 2, runs)
    ax.set(ylabel="test accuracy (mean, seed std)", ylim=(0.5, 1.0), title="fine-tuning on the tilted task")
    ax.legend(fontsize=8, loc="lower left")
    return ax
