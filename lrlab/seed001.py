"""Seed 001's two designs and the dead-network experiment of chapter 3 (E001-1, E001-2, E001-3).

Seed 001 trains one small ReLU network two ways: E001-1 (Keras) on 80 % of
the rows in batches of 32 with a staircase decay every 100 updates, E001-2
(PyTorch) on all rows as one batch with a decay every epoch. Both start Adam at
0.1, and some runs end as *dead networks*: every hidden unit of a layer is zero
on every row, no gradient flows back, and the output is one constant.

* :func:`designs` — the two designs as keyword arguments of ``fit``/``fit_many``;
* :func:`active_units` — how many ReLU units of each hidden layer are alive on some row;
* :func:`outcomes` — each run of a ``fit_many`` history as *learns*, *dead* or *diverged*;
* :func:`survival` — the share of runs that learn, per design × Adam ε × framework;
* :func:`epsilon_decides` — whether ε changes that share by more than the seed noise;
* :func:`layer_weights`, :func:`design_differences` — the seed programs' weights, the two designs side by side;
* :func:`lr_runs`, :func:`lr_summary` — Adam from several initial LRs and seeds, with test metrics per epoch;
* :func:`early_stopping_check` — one run with the backends' ``EarlyStopping`` and ``ModelCheckpoint`` callbacks;
* :func:`early_stop`, :func:`stopping_effects`, :func:`stopping_by_lr`, :func:`stopping_measures` — Keras's
  early-stopping rule applied to those histories, and the effects C001-2c is judged on;
* :func:`related_task`, :func:`finetune_runs`, :func:`finetune_measures` — fine-tuning at two LRs on a tilted
  task, per seed, and the effects C001-2d is judged on.

Nothing here imports TensorFlow or PyTorch; the backends come in as arguments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import many, schedules, training

__all__ = ["OUTCOMES", "active_units", "design_differences", "designs", "early_stop", "early_stopping_check",
           "epsilon_decides", "finetune_measures", "finetune_runs", "layer_weights", "lr_runs", "lr_summary",
           "outcomes", "related_task", "stopping_by_lr", "stopping_effects", "stopping_measures", "survival",
           "survival_table"]

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


def epsilon_decides(runs: pd.DataFrame, seeds: int) -> tuple[pd.DataFrame, dict]:
    """Return ``(table, measures)``: does Adam's ε decide whether a run of :func:`survival` learns?

    Per design × framework: the effect is the largest change, between two values
    of ε, of the share of runs that learn; the seed noise is twice the standard
    error of a difference of two shares, ``2·sqrt(2·p̄(1 − p̄)/n)`` (``p̄`` the
    share over all ε, ``n = seeds``); ε *decides* when the effect exceeds it.
    ``table`` also counts the draws (initial-weight seeds) whose outcome changes
    with ε. ``measures`` holds the series ``share`` (per design, framework, ε),
    ``effect``, ``noise`` and ``flips`` (per design and framework).
    """
    learns = runs.assign(learns=runs.outcome == "learns")
    by = learns.groupby(["design", "framework"])
    share = learns.groupby(["design", "framework", "epsilon"]).learns.mean()
    effect = share.groupby(["design", "framework"]).agg(lambda s: s.max() - s.min())
    noise = 2 * np.sqrt(2 * by.learns.mean() * (1 - by.learns.mean()) / seeds)
    flips = learns.groupby(["design", "framework", "init_seed"]).learns.nunique().gt(1)
    flips = flips.groupby(["design", "framework"]).sum()
    table = pd.DataFrame({"largest change of the share with ε": effect, "seed noise (2 s.e.)": noise,
                          "ε decides": np.where(effect > noise, "yes", "no: within the seed noise"),
                          "draws whose outcome changes with ε": flips.astype(str) + f" of {seeds}"})
    return table, {"share": share, "effect": effect, "noise": noise, "flips": flips}


def layer_weights(layers) -> list:
    """Return ``[(kernel (in, out), bias), ...]`` as numpy arrays of Keras ``Dense`` or torch ``Linear`` layers."""
    out = []
    for layer in layers:
        if hasattr(layer, "kernel"):  # Keras
            out.append((np.asarray(layer.kernel.numpy()), np.asarray(layer.bias.numpy())))
        else:  # torch: weight is (out, in)
            out.append((layer.weight.detach().numpy().T, layer.bias.detach().numpy()))
    return out


def design_differences(task, design_kwargs: dict, *, epochs: int, batch_size: int, decay_steps: int,
                       decay_rate: float) -> tuple[pd.DataFrame, dict]:
    """Return the table of what differs between E001-1 and E001-2, and ``{design: last LR / initial LR}``."""
    (x, _), (xv, _) = design_kwargs["E001-1 design"]["train"], design_kwargs["E001-1 design"]["val"]
    per_epoch = -(-len(x) // batch_size)
    s1, s2 = design_kwargs["E001-1 design"]["schedule"], design_kwargs["E001-2 design"]["schedule"]
    last = {"E001-1 design": float(s1(per_epoch * epochs - 1)), "E001-2 design": float(s2(epochs - 1))}
    n = len(task.x_train)
    table = pd.DataFrame({
        "E001-1 (Keras)": [f"{len(x)} (validation {len(xv)})", f"{batch_size}", f"{per_epoch * epochs}",
                           f"every {decay_steps} updates = every {decay_steps / per_epoch:g} epochs",
                           f"{last['E001-1 design']:.4g}", "Keras Glorot uniform, zero bias", "1e-7"],
        "E001-2 (PyTorch)": [f"{n} (no validation)", f"{n} (full batch)", f"{epochs}", "every update = every epoch",
                             f"{last['E001-2 design']:.4g}", "torch Kaiming uniform (a=√5), uniform bias", "1e-8"],
    }, index=["training rows", "batch size", "updates in total", f"LR multiplied by {decay_rate:g}",
              "LR of the last update", "initial weights", "Adam ε"])
    return table, {d: v / float(design_kwargs[d]["schedule"](0)) for d, v in last.items()}


def lr_runs(backends: dict, train, val, test, lrs, init_seeds, *, epochs: int, batch_size: int, decay_steps: int,
            decay_rate: float, seed: int) -> pd.DataFrame:
    """Return the histories of Adam from each initial LR of ``lrs`` × initial-weight seed, in each framework.

    E001-1's harmonised design: staircase exponential decay every
    ``decay_steps`` updates, the batches of ``seed``. Each backend's ``fit_many``
    trains the whole grid twice, once evaluated on ``val`` and once on ``test``
    (training never reads them, so the two runs are the same trajectories): the
    rows hold ``val_*`` and ``test_loss``/``test_accuracy`` of every epoch, with
    ``framework``, ``lr0`` and ``init_seed``.
    """
    configs = [{"lr": schedules.make("exponential", initial_lr=lr, decay_steps=decay_steps, decay_rate=decay_rate,
                                     staircase=True), "init_seed": s} for lr in lrs for s in init_seeds]
    lr0 = [lr for lr in lrs for _ in init_seeds]
    spec, out = training.MLPSpec((20, 64, 32, 1)), []
    for name, backend in backends.items():
        kw = dict(optimizer="adam", loss="binary_crossentropy", epochs=epochs, batch_size=batch_size,
                  configs=configs, seed=seed)
        h = backend.fit_many(spec, train, val, **kw)
        on_test = backend.fit_many(spec, train, test, **kw)
        h = h.assign(test_loss=on_test.val_loss.to_numpy(), test_accuracy=on_test.val_accuracy.to_numpy())
        h.attrs = {}
        out.append(h.assign(framework=name, lr0=h.model.map(dict(enumerate(lr0)))))
    return pd.concat(out, ignore_index=True).drop(columns=["schedule"], errors="ignore")


def lr_summary(runs: pd.DataFrame, y_val) -> pd.DataFrame:
    """Return per initial LR × framework: runs that learn (:func:`outcomes`), and medians over all runs."""
    rows = []
    for (lr, name), g in runs.groupby(["lr0", "framework"], sort=False):
        last = g.groupby("model").tail(1)
        fate = outcomes(g.drop(columns=["init_seed"]), None, y_val).outcome
        rows.append({"lr": lr, "framework": name, "runs that learn": f"{int((fate == 'learns').sum())}/{len(fate)}",
                     "epochs at loss > 0.69": int(g.groupby("model").loss.apply(lambda v: (v > 0.69).sum()).max()),
                     "final train loss": last.loss.median(),
                     "best val loss": g.groupby("model").val_loss.min().median(),
                     "final val loss": last.val_loss.median(), "test accuracy": last.test_accuracy.median(),
                     "test accuracy (runs that learn)": last.test_accuracy[(fate == "learns").to_numpy()].median()})
    return pd.DataFrame(rows).set_index(["lr", "framework"])


def early_stop(val_loss, patience: int) -> tuple[int | None, int]:
    """Return ``(stopped epoch or None, restored best epoch)`` of Keras's EarlyStopping on a validation-loss curve.

    Keras's rule (``lrlab.callbacks.EarlyStopping``, ``min_delta=0``): an epoch
    improves when its loss is below the best so far; after ``patience`` epochs
    in a row without improvement training stops; the best epoch's weights are
    restored.

    >>> early_stop([0.5, 0.4, 0.45, 0.46, 0.3], patience=2)
    (3, 1)
    >>> early_stop([0.5, 0.4, 0.3], patience=2)
    (None, 2)
    """
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, value in enumerate(np.asarray(val_loss, dtype=float)):
        if value < best:
            best, best_epoch, wait = value, epoch, 0
            continue
        wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return None, best_epoch


def stopping_effects(runs: pd.DataFrame, patience: int) -> pd.DataFrame:
    """Return per run of :func:`lr_runs`: where early stopping stops and restores, and its test gain over the end.

    ``gain`` is the test accuracy of the restored (best validation loss)
    model minus that of the model after every epoch; ``loss gain`` the same for
    the test loss, signed so that positive is better.
    """
    rows = []
    for (name, lr, _), g in runs.groupby(["framework", "lr0", "model"], sort=False):
        g = g.reset_index(drop=True)
        stopped, best = early_stop(g.val_loss, patience)
        rows.append({"framework": name, "lr": lr, "init_seed": int(g.init_seed.iloc[0]),
                     "stopped": -1 if stopped is None else stopped, "best epoch": best,
                     "gain": g.test_accuracy[best] - g.test_accuracy.iloc[-1],
                     "loss gain": g.test_loss.iloc[-1] - g.test_loss[best]})
    return pd.DataFrame(rows)


def stopping_by_lr(gains: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`stopping_effects` per framework and initial LR: runs that stopped ("k/n"), gains' mean and std."""
    return gains.groupby(["framework", "lr"], sort=False).agg(
        stops=("stopped", lambda v: f"{int((v >= 0).sum())}/{len(v)}"), gain=("gain", "mean"),
        gain_std=("gain", "std"), loss_gain=("loss gain", "mean"), loss_gain_std=("loss gain", "std"))


def stopping_measures(per_lr: pd.DataFrame, name: str, lrs) -> tuple[dict, str]:
    """Return ``({"Adam from <lr>": (mean gain, seed std)}, evidence)`` of framework ``name`` (stopping_by_lr).

    The evidence sentence also gives the mean gain in test loss per initial LR.
    """
    m = per_lr.loc[name]
    measures = {f"Adam from {lr:g}": (m.gain[lr], m.gain_std[lr]) for lr in lrs}
    evidence = "; ".join(f"from {lr:g}: gain {m.gain[lr]:.3f} (std {m.gain_std[lr]:.3f}), test loss gain "
                         f"{m.loss_gain[lr]:.3f}" for lr in lrs)
    return measures, evidence


def early_stopping_check(backend, train, val, test, schedule, path, *, epochs: int, batch_size: int, patience: int,
                         seed: int) -> dict:
    """Return where ``EarlyStopping(patience)`` stopped one run and what its restored and checkpointed models score.

    The run: a 20-64-32-1 MLP from ``seed``, Adam on ``schedule``, with the
    backend's ``EarlyStopping`` (best weights restored) and ``ModelCheckpoint``
    writing the best model to ``path`` (plus the framework's suffix). The
    result: the stopping and best epochs, the best validation loss, the
    checkpoint file's suffix, and the test loss of the restored model and of
    the model read back from the file (the same when the checkpoint is right).
    """
    from pathlib import Path

    model, stop = backend.mlp((20, 64, 32, 1), seed=seed), backend.EarlyStopping("val_loss", patience=patience)
    checkpoint = backend.ModelCheckpoint(path, "val_loss")
    backend.fit(model, train, val, optimizer=backend.optimizer("adam", schedule), loss="binary_crossentropy",
                epochs=epochs, batch_size=batch_size, seed=seed, callbacks=[stop, checkpoint])
    restored = backend.evaluate(model, test, loss="binary_crossentropy")
    reloaded = backend.evaluate(backend.load_model(checkpoint.path), test, loss="binary_crossentropy")
    return {"stopped at epoch": stop.stopped_epoch, "best epoch": stop.best_epoch, "best val loss": stop.best,
            "checkpoint file": Path(checkpoint.path).suffix, "test loss (restored)": restored["loss"],
            "test loss (checkpoint)": reloaded["loss"], "test accuracy (restored)": restored["accuracy"]}


def related_task(tilt, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Return (x, y): ``n`` rows of 20 uniform features, label 1 when ``x @ tilt`` exceeds half of ``tilt.sum()``."""
    x = rng.random((n, len(tilt)))
    return x, (x @ tilt > tilt.sum() / 2).astype(np.float64).reshape(-1, 1)


def finetune_runs(backends: dict, pretrained: dict, tilt, old_test, seeds, *, lr: float, epochs: int,
                  batch_size: int, n_train: int = 100, n_test: int = 1000) -> pd.DataFrame:
    """Return, per framework and seed, the new- and old-task test accuracy of three runs on the tilted task.

    Seed ``s`` draws ``n_train`` training rows of :func:`related_task` from
    ``default_rng(s)`` (the test rows come from ``default_rng(seeds[0] + 10**6)``,
    the same for all seeds) and shuffles the batches with ``s``. Runs, trained
    together by ``fit_many`` for ``epochs`` epochs with Adam: fine-tuning
    ``pretrained[framework]`` (a model) at ``lr`` and at ``lr / 10``, and the
    same network from scratch (initial weights of seed ``s``) at ``lr``. Each
    grid is trained twice, evaluated on the new task's and on the old task's
    test rows. ``before`` is the pre-trained model's new-task accuracy.
    """
    new_test = related_task(tilt, n_test, np.random.default_rng(seeds[0] + 10**6))
    runs = {f"fine-tune at {lr:g}": {"lr": lr}, f"fine-tune at {lr / 10:g}": {"lr": lr / 10},
            f"from scratch at {lr:g}": {"lr": lr}}
    rows = []
    for s in seeds:
        new_train = related_task(tilt, n_train, np.random.default_rng(s))
        configs = list(runs.values())[:2] + [{"lr": lr, "init_seed": s}]
        for name, backend in backends.items():
            kw = dict(optimizer="adam", loss="binary_crossentropy", epochs=epochs, batch_size=batch_size,
                      configs=configs, seed=s)
            new = backend.fit_many(pretrained[name], new_train, new_test, **kw).groupby("model").tail(1)
            old = backend.fit_many(pretrained[name], new_train, old_test, **kw).groupby("model").tail(1)
            before = backend.evaluate(pretrained[name], new_test, loss="binary_crossentropy")["accuracy"]
            for run, a_new, a_old in zip(runs, new.val_accuracy, old.val_accuracy):
                rows.append({"framework": name, "seed": s, "run": run, "new-task accuracy before": before,
                             "new-task test accuracy": a_new, "old-task test accuracy": a_old})
    return pd.DataFrame(rows)


def finetune_measures(finetune: pd.DataFrame, name: str, runs) -> tuple[dict, str]:
    """Return ``({reading: (mean, seed std)}, evidence)`` of framework ``name``'s fine-tuning (C001-2d).

    ``runs`` names the runs at the full rate, at a tenth of it, and from scratch;
    per draw the effect is the test accuracy at the smaller rate minus at the
    full one, read on the new task and on the old one.
    """
    acc = finetune[finetune.framework == name].pivot_table(
        index="seed", columns="run", values=["new-task test accuracy", "old-task test accuracy"])
    big, small, _ = runs
    d = {task_name: acc[col, small] - acc[col, big] for task_name, col in
         [("judged on the new task", "new-task test accuracy"), ("judged on the old task", "old-task test accuracy")]}
    evidence = "; ".join(f"{k}: {v.mean():.3f} (std {v.std():.3f})" for k, v in d.items())
    return {k: (v.mean(), v.std()) for k, v in d.items()}, evidence
