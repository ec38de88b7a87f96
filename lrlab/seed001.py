"""Seed 001's two designs and the dead-network experiment of chapter 3 (E001-1, E001-2, E001-3).

Seed 001 trains one small ReLU network two ways: E001-1 (Keras) on 80 % of
the rows in batches of 32 with a staircase decay every 100 updates, E001-2
(PyTorch) on all rows as one batch with a decay every epoch. Both start Adam at
0.1, and some runs end as *dead networks*: every hidden unit of a layer is zero
on every row, no gradient flows back, and the output is one constant.

* :func:`designs` — the two designs as keyword arguments of ``fit``/``fit_many``;
* :func:`active_units` — how many ReLU units of each hidden layer are alive on some row;
* :func:`outcomes` — each run of a ``fit_many`` history as *learns*, *dead* or *diverged*;
* :func:`survival` — the share of runs that learn, per design × Adam ε × framework.

Nothing here imports TensorFlow or PyTorch; the backends come in as arguments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import many, schedules, training

__all__ = ["OUTCOMES", "active_units", "designs", "outcomes", "survival", "survival_table"]

#: what a run can end as, in the order the tables show them
OUTCOMES = ("learns", "dead", "diverged")


def designs(task, initial_lr: float, decay_rate: float, decay_steps: int, batch_size: int) -> dict:
    """Return {design name: fit keyword arguments} of seed 001's two designs on ``task`` (a seed001_task split).

    Each value holds ``train``, ``val``, ``batch_size``, ``schedule_unit`` and
    ``schedule`` (an lrlab schedule): E001-1 holds out the last 20 % like
    Keras's ``validation_split`` and decays every ``decay_steps`` updates;
    E001-2 trains on every row in one batch and decays every epoch.
    """
    train, val = training.holdout(task.x_train, task.y_train, 0.2)
    return {
        "E001-1 design": dict(train=train, val=val, batch_size=batch_size, schedule_unit="step",
                              schedule=schedules.make("exponential", initial_lr=initial_lr, decay_steps=decay_steps,
                                                      decay_rate=decay_rate, staircase=True)),
        "E001-2 design": dict(train=(task.x_train, task.y_train), val=None, batch_size=None, schedule_unit="epoch",
                              schedule=schedules.make("exponential", initial_lr=initial_lr, decay_steps=1,
                                                      decay_rate=decay_rate)),
    }


def active_units(weights, x) -> str:
    """Return, per hidden layer, ``"alive/width"``: units non-zero on at least one row of ``x``, joined by "and"."""
    counts, h = [], np.asarray(x, np.float64)
    for kernel, bias in weights[:-1]:
        h = np.maximum(h @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64), 0)
        counts.append(f"{int((h > 0).any(axis=0).sum())}/{kernel.shape[1]}")
    return " and ".join(counts)


def outcomes(history: pd.DataFrame, y_train, y_val=None) -> pd.DataFrame:
    """Return one row per model of a ``fit_many`` history: its configuration, final accuracy and outcome.

    The rule, fixed before any result: a run is *diverged* when lrlab's one
    divergence rule stopped it (``status == "diverged"``); it is *dead* when the
    last evaluation of its final weights gives every row the same class — its
    accuracy there equals the share of one label to within half a row, the mark
    of an output that no longer depends on the input; otherwise it *learns*.
    The evaluation at fixed weights is the validation rows ``y_val`` where the
    design holds rows out, else the training rows (a full-batch epoch's
    accuracy is measured at one set of weights; a mini-batch epoch's is not).
    """
    column, y = ("accuracy", y_train) if y_val is None else ("val_accuracy", y_val)
    y = np.asarray(y).reshape(-1)
    share, half_row = float(y.mean()), 0.5 / len(y)
    last = history.groupby("model", sort=True).tail(1).set_index("model")
    last.attrs = {}
    value = last[column]
    same_class = ((value - share).abs() < half_row) | ((value - (1 - share)).abs() < half_row)
    outcome = np.where(last.status == "diverged", "diverged", np.where(same_class, "dead", "learns"))
    keep = [c for c in ("epsilon", "init_seed") if c in last.columns]
    return last[keep].assign(accuracy=last.accuracy, outcome=outcome).reset_index()


def survival(backends: dict, design_kwargs: dict, epsilons, init_seeds, *, epochs: int, seed: int) -> pd.DataFrame:
    """Return every run of the dead-network experiment: design, framework, ε, init seed, accuracy, outcome.

    Each backend's ``fit_many`` trains the seed-001 network (20-64-32-1, Adam in
    Keras's form, lrlab's float64) once per ε × initial-weight seed, for each
    design of :func:`designs`; all models of a call share batches and schedule.
    """
    configs = many.grid(epsilon=list(epsilons), init_seed=list(init_seeds))
    spec = training.MLPSpec((20, 64, 32, 1))
    runs = []
    for design, kw in design_kwargs.items():
        for name, backend in backends.items():
            adam = backend.optimizer("adam", kw["schedule"])
            history = backend.fit_many(spec, kw["train"], kw["val"], optimizer=adam, loss="binary_crossentropy",
                                       epochs=epochs, batch_size=kw["batch_size"], configs=configs,
                                       schedule_unit=kw["schedule_unit"], seed=seed)
            y_val = None if kw["val"] is None else kw["val"][1]
            runs.append(outcomes(history, kw["train"][1], y_val).assign(design=design, framework=name))
    return pd.concat(runs, ignore_index=True)[["design", "framework", "epsilon", "init_seed", "accuracy", "outcome"]]


def survival_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Return the share of runs that learn per design × framework (rows) and ε (columns), as "k/n"."""
    def share(group):
        return f"{int((group == 'learns').sum())}/{len(group)}"

    table = runs.groupby(["design", "framework", "epsilon"], sort=False).outcome.agg(share).unstack("epsilon")
    table.columns = [f"ε = {e:g}" for e in table.columns]
    return table
