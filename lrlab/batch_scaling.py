"""What changes when the batch grows: the learning rate it wants, and the gap at equal fit (chapter 8).

The batch-size chapter (C000-2, C000-3a, C003-2a) asks three questions of a
plain-SGD MLP trained with ``fit_many`` at several batch sizes, and this module
holds the mechanics of each, so the chapter's cells say *what* they run:

* **the linear scaling rule** (Goyal et al., 2017): from a base batch at its
  best rate :math:`\\eta`, grow the batch :math:`k`-fold and compare keeping
  :math:`\\eta`, :math:`k\\eta`, :math:`k\\eta` after a linear warmup, and
  :math:`\\eta/2` (:func:`scaling_choices`, :func:`scaling_runs`,
  :func:`scaling_table`, :func:`judge_scaling`);
* **the generalisation gap at equal fit** (Keskar et al., 2017; Hoffer et al.,
  2017): train every batch size at its best rate until its training loss first
  reaches a target, and compare validation losses there and after equal epochs
  (:func:`equal_fit_budget`, :func:`equal_fit_runs`, :func:`equal_fit_summary`,
  :func:`equal_fit_effects`, :func:`judge_equal_fit`);
* **the best batch per learning rate** in a learning rate × batch size heat map
  (:func:`best_lr`, :func:`best_batch_shift`, :func:`judge_best_batch`).

A run is one ``fit_many`` call made by :func:`sgd_runner`; the verdicts go
through :func:`lrlab.part_verdicts.judge`. Framework-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lrlab import many, part_verdicts, schedules, sensitivity

__all__ = ["CHOICES", "best_batch_shift", "best_lr", "equal_fit_budget", "equal_fit_effects", "equal_fit_runs",
           "equal_fit_summary", "judge_best_batch", "judge_equal_fit", "judge_scaling", "per_framework",
           "scaling_choices", "scaling_runs", "scaling_table", "sgd_runner", "steps_per_epoch"]

#: the four learning rates compared when the batch grows k-fold from a base rate eta (:func:`scaling_choices`)
CHOICES = ("keep lr", "linear k·lr", "linear + warmup", "lower: lr/2")


def steps_per_epoch(rows: int, batch: int) -> int:
    """Return the updates of one epoch over ``rows`` training rows: :math:`\\lceil rows / batch \\rceil`.

    >>> steps_per_epoch(1077, 4), steps_per_epoch(1077, 1024)
    (270, 2)
    """
    return -(-int(rows) // int(batch))


def sgd_runner(backend, data, epochs: int, sizes: Sequence[int] = (64, 32, 10)) -> Callable[..., pd.DataFrame]:
    """Return ``run(batch, seed, configs, epochs=epochs)``: one ``fit_many`` call of the ReLU MLP with plain SGD.

    The model is the softmax MLP of layer widths ``sizes`` with the initial
    weights of ``seed`` (a configuration's ``init_seed`` overrides them), trained
    on ``data.train`` with the categorical cross-entropy and validated on
    ``data.val``; ``seed`` also fixes the batch order. Every configuration (one
    model each) trains at batch size ``batch``.
    """
    default_epochs = epochs

    def run(batch: int, seed: int, configs, epochs: int = default_epochs) -> pd.DataFrame:
        return backend.fit_many(backend.mlp(tuple(sizes), "relu", "softmax", seed=seed), data.train, data.val,
                                optimizer="sgd", loss="categorical_crossentropy", epochs=epochs, batch_size=batch,
                                configs=configs, seed=seed)

    return run


def best_lr(heat: pd.DataFrame) -> pd.Series:
    """Return, per batch size, the learning rate of the smallest mean final validation loss over seeds.

    ``heat`` has one row per run with the columns ``batch``, ``lr`` and
    ``val_loss`` (e.g. from :func:`lrlab.sensitivity.sweep`); ties go to the
    smaller rate.

    >>> heat = pd.DataFrame({"batch": [4, 4, 16, 16], "lr": [0.1, 1.0, 0.1, 1.0], "val_loss": [0.2, 0.5, 0.4, 0.3]})
    >>> best_lr(heat).to_dict()
    {4: 0.1, 16: 1.0}
    """
    cells = sensitivity.spread(heat, ["batch", "lr"], "val_loss")
    return sensitivity.heatmap_table(cells, "lr", "batch").idxmin()


# ----------------------------------------------------------------------------------------
# the linear scaling rule (C000-2)
# ----------------------------------------------------------------------------------------
def scaling_choices(eta: float, k: int, steps: int, warmup_epochs: int) -> dict:
    """Return the learning rates of :data:`CHOICES` for a batch grown ``k``-fold from one trained at ``eta``.

    ``keep lr``: :math:`\\eta`; ``linear k·lr``: :math:`k\\eta` (the linear
    scaling rule); ``linear + warmup``: :math:`k\\eta` after a linear warmup from
    :math:`\\eta` over ``warmup_epochs`` epochs of ``steps`` updates (a
    :mod:`lrlab.schedules` ``warmup`` schedule); ``lower: lr/2``:
    :math:`\\eta/2`.

    >>> choices = scaling_choices(0.1, 4, steps=10, warmup_epochs=2)
    >>> choices["linear k·lr"], choices["lower: lr/2"], float(choices["linear + warmup"](20))
    (0.4, 0.05, 0.4)
    """
    return {"keep lr": eta, "linear k·lr": k * eta,
            "linear + warmup": schedules.make("warmup", after=schedules.make("constant", lr=k * eta),
                                              warmup_steps=warmup_epochs * steps, start_lr=eta),
            "lower: lr/2": eta / 2}


def scaling_runs(run, framework: str, eta: float, base_batch: int, factors, seeds, rows: int, *,
                 warmup_epochs: int, epochs: int) -> pd.DataFrame:
    """Return the final validation loss of every :data:`CHOICES` rate at every factor ``k`` and seed.

    For each ``k`` in ``factors`` the batch is ``base_batch·k``; the four
    choices (:func:`scaling_choices` from ``eta``) train together in one call
    ``run(batch, seed, configs, epochs=epochs)`` per seed (:func:`sgd_runner`);
    ``rows`` is the size of the training set. Columns: ``framework``, ``k``,
    ``batch``, ``base lr``, ``choice``, ``seed``, ``val loss`` (``inf`` for a
    diverged run, :func:`lrlab.sensitivity.final`).
    """
    out = []
    for k in factors:
        batch = base_batch * k
        choices = scaling_choices(eta, k, steps_per_epoch(rows, batch), warmup_epochs)
        for s in seeds:
            result = sensitivity.final(run(batch, s, [{"lr": lr} for lr in choices.values()], epochs=epochs),
                                       epochs, seed=s)
            for m, label in enumerate(choices):
                out.append({"framework": framework, "k": k, "batch": batch, "base lr": eta, "choice": label,
                            "seed": s, "val loss": result.val_loss.iloc[m]})
    return pd.DataFrame(out)


def scaling_table(scaling: pd.DataFrame, heat: dict, failed_above: float) -> tuple[pd.DataFrame, float]:
    """Return the scaling table (framework, k, batch × choice) and its largest seed standard deviation.

    A cell is the mean final validation loss over seeds when every seed ended at
    or below ``failed_above``, else the worst seed's (so that it prints as
    ``"> cut"``: :func:`lrlab.report.loss_text`); the column ``heat-map best``
    is the smallest mean of that batch size in the framework's heat map
    (``heat`` maps a framework to its runs). The float is the largest seed
    standard deviation among the cells where every seed trained.
    """
    summary = scaling.groupby(["framework", "k", "batch", "choice"], sort=False)["val loss"].agg(["mean", "std", "max"])
    trained = summary["max"] <= failed_above  # every seed trained: the mean is what another CPU prints too
    table = summary["mean"].where(trained, summary["max"]).unstack("choice")
    table["heat-map best"] = [float(sensitivity.spread(heat[f], ["batch", "lr"], "val_loss")
                                    .groupby("batch")["mean"].min().get(b, np.nan)) for f, _, b in table.index]
    return table, float(summary["std"][trained].max())


def judge_scaling(part: str, framework: str, scaling: pd.DataFrame, choice: str, threshold: float, *, cap: float,
                  rule: str, scope: str):
    """Return (and record) the verdict that ``choice`` beats keeping the rate, at each factor ``k``.

    Effect at ``k``: the validation loss keeping :math:`\\eta` minus that with
    ``choice``, each seed's loss capped at ``cap`` (a run that learned nothing
    counts as ``cap`` wherever it ended); mean over seeds, noise their standard
    deviation. Decided per ``k`` by :func:`lrlab.part_verdicts.judge` (the
    conditions ``"k = 4"``, …).
    """
    mine = scaling[scaling.framework == framework]
    capped = mine.assign(**{"val loss": mine["val loss"].clip(upper=cap)})
    per_seed = capped.pivot_table(index=["k", "seed"], columns="choice", values="val loss")
    d = (per_seed["keep lr"] - per_seed[choice]).groupby("k")
    measures = {f"k = {k}": (float(d.mean()[k]), float(d.std()[k])) for k in sorted(mine.k.unique())}
    base = int(mine.batch.iloc[0] // mine.k.iloc[0])
    return part_verdicts.judge(
        part, framework, measures, threshold, rule=rule, seeds=int(mine.seed.nunique()), scope=scope,
        evidence=f"{framework}, from batch {base} at lr {float(mine['base lr'].iloc[0]):.3g}: val loss keeping lr "
                 f"minus with {choice}: " + _effects_text(measures))


def _effects_text(measures: dict) -> str:
    """Return ``"condition: +effect (std noise); ..."`` with three decimals."""
    return "; ".join(f"{c}: {e:+.3f} (std {n:.3f})" for c, (e, n) in measures.items())


# ----------------------------------------------------------------------------------------
# the generalisation gap at equal fit (C000-3a)
# ----------------------------------------------------------------------------------------
def equal_fit_budget(batch: int, largest: int, epochs: int, max_epochs: int) -> int:
    """Return the epochs batch size ``batch`` gets to reach the target training loss.

    :math:`\\min(max\\_epochs, \\max(2\\,epochs, \\lceil max\\_epochs \\cdot batch / largest \\rceil))`:
    the largest batch gets ``max_epochs``, smaller ones proportionally fewer
    (the same number of updates), never fewer than twice ``epochs``.

    >>> [equal_fit_budget(b, 1024, 10, 240) for b in (4, 256, 1024)]
    [20, 60, 240]
    """
    return min(max_epochs, max(2 * epochs, -(-max_epochs * batch // largest)))


def _at_target(history: pd.DataFrame, target_loss: float, epochs: int, steps: int) -> list[dict]:
    """Return one row per model: where its training loss first reached ``target_loss``, and after ``epochs``."""
    configs = history.attrs["configs"].set_index("model")
    out = []
    for m, run in history.groupby("model"):
        at = run[run.loss <= target_loss]
        short = run[run.epoch == epochs - 1]
        reached = len(at) > 0
        row = at.iloc[0] if reached else run.iloc[-1]
        out.append({"seed": int(configs.init_seed[m]),
                    "epochs to target": int(row.epoch) + 1 if reached else np.nan,
                    "updates to target": (int(row.epoch) + 1) * steps if reached else np.nan,
                    "train loss": row.loss, "val loss": row.val_loss, "val accuracy": row.val_accuracy,
                    "gap": row.val_loss - row.loss,
                    f"val loss after {epochs} epochs": float(short.val_loss.iloc[0]) if len(short) else np.nan})
    return out


def equal_fit_runs(run, framework: str, lrs: pd.Series, batches, init_seeds, seed: int, rows: int, *,
                   epochs: int, max_epochs: int, target_loss: float) -> pd.DataFrame:
    """Return, per batch size and initial weights, the validation loss at equal fit and after equal epochs.

    Each batch size trains at its rate ``lrs[batch]`` (e.g. :func:`best_lr`) for
    :func:`equal_fit_budget` epochs, the models of ``init_seeds`` in one call
    ``run(batch, seed, configs, epochs=...)`` (sharing the batch order of
    ``seed``). A row is read at the first epoch whose mean training loss is at
    most ``target_loss`` (the last epoch, and NaN epochs and updates, if none
    is): ``epochs to target``, ``updates to target``, ``train loss``, ``val
    loss``, ``val accuracy``, ``gap`` (val minus train loss); and ``val loss
    after {epochs} epochs``, the equal-epochs comparison.
    """
    out = []
    for batch in batches:
        lr = float(lrs[batch])
        history = run(batch, seed, many.grid(lr=[lr], init_seed=list(init_seeds)),
                      epochs=equal_fit_budget(batch, max(batches), epochs, max_epochs))
        out += [{"framework": framework, "batch": batch, "lr": lr, **row}
                for row in _at_target(history, target_loss, epochs, steps_per_epoch(rows, batch))]
    return pd.DataFrame(out)


def equal_fit_summary(gaps: pd.DataFrame, epochs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the mean and the standard deviation over seeds of :func:`equal_fit_runs`'s columns, per batch size.

    Rows: framework and batch; columns: epochs and updates to the target,
    validation loss and accuracy and the gap there, and the validation loss after
    ``epochs`` epochs.
    """
    columns = ["epochs to target", "updates to target", "val loss", "val accuracy", "gap",
               f"val loss after {epochs} epochs"]
    summary = gaps.groupby(["framework", "batch"]).agg(["mean", "std"])[columns]
    return summary.xs("mean", axis=1, level=1), summary.xs("std", axis=1, level=1)


def per_framework(table: pd.DataFrame, column: str) -> dict:
    """Return ``{framework: DataFrame(batch, mean, std)}``: ``column``'s mean and spread over seeds per batch size.

    The frames :func:`lrlab.plots.overlay` draws (``x="batch"``, ``y="mean"``, ``yerr="std"``).

    >>> table = pd.DataFrame({"framework": "tf", "batch": [4, 4], "val loss": [0.1, 0.3]})
    >>> per_framework(table, "val loss")["tf"].round(3).to_dict("records")
    [{'batch': 4, 'mean': 0.2, 'std': 0.141}]
    """
    return {name: part.groupby("batch")[column].agg(["mean", "std"]).reset_index()
            for name, part in table.groupby("framework", sort=False)}


def equal_fit_effects(gaps: pd.DataFrame, framework: str, epochs: int) -> dict:
    """Return ``{condition: (effect, noise)}``: largest minus smallest batch, at equal epochs and at equal fit.

    Effect: the validation loss of the largest batch minus that of the
    smallest, paired by initial weights (``seed``), mean over seeds; noise: the
    standard deviation of the paired differences. The conditions are
    ``"compared at equal epochs"`` (after ``epochs`` epochs) and ``"compared at
    equal training loss"`` (at the target).
    """
    g = gaps[gaps.framework == framework].set_index(["batch", "seed"])
    small, large = min(gaps.batch), max(gaps.batch)
    measures = {}
    for condition, column in (("compared at equal epochs", f"val loss after {epochs} epochs"),
                              ("compared at equal training loss", "val loss")):
        d = g.loc[large, column] - g.loc[small, column]
        measures[condition] = (float(d.mean()), float(d.std()))
    return measures


def judge_equal_fit(framework: str, gaps: pd.DataFrame, threshold: float, *, epochs: int, target_loss: float,
                    rule: str, scope: str):
    """Return (and record) the verdict that the largest batch ends worse, at equal epochs and at equal fit.

    The measures of :func:`equal_fit_effects`, each condition decided alone
    (:func:`lrlab.part_verdicts.judge`: holding at one only is *holds only
    when*); the evidence adds the updates each batch took to the target.
    """
    measures = equal_fit_effects(gaps, framework, epochs)
    g = gaps[gaps.framework == framework].set_index(["batch", "seed"])
    small, large = min(gaps.batch), max(gaps.batch)
    return part_verdicts.judge(
        "C000-3a", framework, measures, threshold, rule=rule, seeds=int(g.index.get_level_values("seed").nunique()),
        scope=scope,
        evidence=f"{framework}: val loss batch {large} minus batch {small}, paired by initial weights: "
                 + _effects_text(measures)
                 + f"; the target training loss {target_loss:g} took {g.loc[small, 'updates to target'].mean():.0f} "
                   f"updates at batch {small}, {g.loc[large, 'updates to target'].mean():.0f} at batch {large}")


# ----------------------------------------------------------------------------------------
# the best batch per learning rate (C003-2a)
# ----------------------------------------------------------------------------------------
def best_batch_shift(heat: pd.DataFrame, trainable_below: float = 0.5) -> dict:
    """Return how the best batch size moves from the smallest to the largest learning rate that trains.

    In each seed of ``heat`` (runs with ``seed``, ``lr``, ``batch``,
    ``val_loss``) the best batch size is the one of the smallest final
    validation loss. ``low`` is the smallest learning rate, ``high`` the largest
    where some batch size's mean over seeds is at most ``trainable_below``;
    ``effect`` is :math:`\\log_2(best(high) / best(low))` per seed (negative: a
    higher rate wants a smaller batch). Keys: ``low``, ``high``, ``best_low``,
    ``best_high`` (lists, one per seed), ``effect`` (an array).

    >>> heat = pd.DataFrame({"seed": 0, "lr": [0.1, 0.1, 1.0, 1.0], "batch": [4, 16] * 2,
    ...                      "val_loss": [0.2, 0.3, 0.4, 0.3]})
    >>> shift = best_batch_shift(heat)
    >>> shift["best_low"], shift["best_high"], shift["effect"].tolist()
    ([4], [16], [2.0])
    """
    per = heat.pivot_table(index=["seed", "lr"], columns="batch", values="val_loss")
    mean = per.groupby(level="lr").mean()
    trainable = mean.index[mean.min(axis=1) <= trainable_below]
    low, high = float(trainable.min()), float(trainable.max())
    best = per.idxmin(axis=1)
    best_low, best_high = best.xs(low, level="lr"), best.xs(high, level="lr")
    return {"low": low, "high": high, "best_low": best_low.tolist(), "best_high": best_high.tolist(),
            "effect": np.log2(best_high.to_numpy() / best_low.to_numpy())}


def judge_best_batch(framework: str, heat: pd.DataFrame, threshold: float, *, rule: str, scope: str,
                     trainable_below: float = 0.5):
    """Return (and record) the verdict that a higher learning rate wants a smaller batch (``direction=-1``).

    Effect: the mean over seeds of :func:`best_batch_shift`'s ``effect``; noise:
    its standard deviation; the claim holds at an effect of at most
    ``-threshold``.
    """
    shift = best_batch_shift(heat, trainable_below)
    effect = shift["effect"]
    return part_verdicts.judge(
        "C003-2a", framework, {"": (float(effect.mean()), float(effect.std(ddof=1)))}, threshold, direction=-1,
        rule=rule, seeds=int(heat.seed.nunique()), scope=scope,
        evidence=f"{framework}: best batch per seed at lr {shift['low']:.3g}: {shift['best_low']}, at lr "
                 f"{shift['high']:.3g} (the largest that trains): {shift['best_high']}")
