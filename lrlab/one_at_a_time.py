"""Which hyperparameters matter: move one at a time around a base configuration and measure the effect (chapter 11).

Seed 003 ranks hyperparameters (C003-1): the learning rate and the batch size
first, then the strength of regularisation and Adam's β1 and β2. The simplest
measurement of such a ranking starts from a good configuration, moves one
hyperparameter at a time across the range a practitioner would try, and asks
how far the final validation loss moves:

* :func:`adam_sweeps` runs the sweeps around Adam in one framework
  (``fit_many``, one call per seed; the batch sizes, whose models cannot share a
  call, one call per batch size with the seeds' initial weights);
* :func:`per_seed_effect` measures a sweep: per seed, the (capped) loss at the
  sweep's worst point minus at its best, the points chosen by the mean over
  seeds; :func:`effects` does it for every sweep and :func:`effects_table`
  lists them;
* :func:`judge` and :func:`judge_penalties` turn the effects into the recorded
  verdicts of C003-1a/b/c (:func:`lrlab.part_verdicts.judge`).

Chapter 18 asks the same of MNIST-1D in validation accuracy, on any set of
hyperparameters: :func:`configurations` lists the moves one at a time from a
base configuration, :func:`importance` measures each hyperparameter's range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import many, part_verdicts, sensitivity
from lrlab.mlp_runs import fit_mlp
from lrlab.params import ParameterError

__all__ = ["EFFECT", "adam_sweeps", "configurations", "effects", "effects_table", "importance", "judge",
           "judge_penalties", "mean_std", "per_seed_effect", "plot_points"]

#: the column of :func:`effects_table` that holds the mean effect
EFFECT = "effect (worst - best, capped)"


def adam_sweeps(backend, data, seeds, *, lrs, batch_sizes, decays, beta1s, beta2s, epochs: int,
                batch_size: int) -> tuple[float, pd.DataFrame]:
    """Return ``(base_lr, runs)``: Adam's sweeps one hyperparameter at a time around its best learning rate.

    First the learning rates ``lrs`` at ``batch_size``; ``base_lr`` is the one
    with the smallest mean final validation loss over ``seeds``. Then, at
    ``base_lr``: β1 over ``beta1s`` and β2 over ``beta2s`` (Adam), AdamW's
    weight decay over ``decays``, and the batch sizes ``batch_sizes`` (one
    ``fit_many`` call per batch size: the seeds' initial weights share the
    batch order of ``seeds[0]``). ``runs`` has one row per run
    (:func:`lrlab.sensitivity.final`) with ``hyperparameter`` (the sweep's
    name), ``value`` (its value) and ``seed``.
    """
    seeds = list(seeds)

    def final(optimizer, configs, seed, batch=batch_size):
        history = fit_mlp(backend, data, optimizer, configs, seed, epochs=epochs, batch_size=batch)
        return sensitivity.final(history, epochs, seed=seed)

    lr_part = pd.concat([final("adam", many.grid(lr=lrs), s) for s in seeds], ignore_index=True)
    base_lr = float(sensitivity.spread(lr_part, "lr", "val_loss").set_index("lr")["mean"].idxmin())
    parts = [lr_part.assign(hyperparameter="learning rate", value=lr_part.lr)]
    for s in seeds:
        betas = final("adam", [{"lr": base_lr, "beta_1": b} for b in beta1s]
                      + [{"lr": base_lr, "beta_2": b} for b in beta2s], s)
        parts.append(betas.iloc[:len(beta1s)].assign(hyperparameter="beta_1", value=beta1s))
        parts.append(betas.iloc[len(beta1s):].assign(hyperparameter="beta_2", value=beta2s))
        decayed = final("adamw", many.grid(lr=[base_lr], weight_decay=decays), s)
        parts.append(decayed.assign(hyperparameter="weight decay (AdamW)", value=decays))
    for batch in batch_sizes:
        sized = final("adam", many.grid(lr=[base_lr], init_seed=seeds), seeds[0], batch=batch)
        parts.append(sized.assign(hyperparameter="batch size", value=batch, seed=sized.init_seed))
    return base_lr, pd.concat(parts, ignore_index=True)


def per_seed_effect(part: pd.DataFrame, cap: float) -> pd.Series:
    """Return, per seed, the capped val loss at the sweep's worst point minus at its best point.

    ``part`` has the columns ``seed``, ``value`` (the swept value) and
    ``val_loss``; each loss is first capped at ``cap`` (a run above it has
    broken down, and how far above depends on the CPU). The worst and best
    points are those of the largest and smallest mean over seeds.

    >>> part = pd.DataFrame({"seed": [0, 0, 1, 1], "value": [1, 2, 1, 2], "val_loss": [0.2, 5.0, 0.4, 0.6]})
    >>> per_seed_effect(part, cap=1.0).round(6).tolist()
    [0.8, 0.2]
    """
    v = part.assign(val_loss=part.val_loss.clip(upper=cap)).pivot_table(index="seed", columns="value",
                                                                        values="val_loss")
    return v[v.mean().idxmax()] - v[v.mean().idxmin()]


def effects(runs: pd.DataFrame, cap: float) -> dict:
    """Return ``{hyperparameter: per-seed effect}`` (:func:`per_seed_effect`) of each sweep of ``runs``, in order."""
    return {h: per_seed_effect(part, cap) for h, part in runs.groupby("hyperparameter", sort=False)}


def effects_table(effect: dict) -> pd.DataFrame:
    """Return the effects ``{framework: effects(...)}`` as a table: mean over seeds and its std, largest first."""
    rows = pd.DataFrame([{"framework": fw, "hyperparameter": h, EFFECT: d.mean(), "seed std": d.std()}
                         for fw, e in effect.items() for h, d in e.items()])
    return rows.sort_values(["framework", EFFECT], ascending=[True, False])


def mean_std(d) -> tuple[float, float]:
    """Return ``(mean, std)`` of a per-seed effect, the measure :func:`lrlab.part_verdicts.judge` reads."""
    return float(d.mean()), float(d.std())


def _effect_text(effect: dict) -> str:
    return "; ".join(f"{h} {d.mean():.3f} (std {d.std():.3f})" for h, d in effect.items())


def judge(framework: str, effect: dict, base_lr: float, *, ranking: float, matters: float, seeds: int,
          scope: str) -> list:
    """Return the recorded verdicts C003-1a, C003-1b (AdamW's decay) and C003-1c of one framework.

    ``effect`` is :func:`effects` of the framework's :func:`adam_sweeps`.
    C003-1a: per seed, the smaller of the learning rate's and the batch size's
    effects minus the largest of weight decay's, β1's and β2's, at least
    ``ranking``. C003-1b: AdamW's weight decay, and C003-1c: β1 and β2 each,
    effect at least ``matters``.
    """
    e = effect
    top = np.minimum(e["learning rate"].to_numpy(), e["batch size"].sort_index().to_numpy()) - np.max(
        [e[h].sort_index().to_numpy() for h in ("weight decay (AdamW)", "beta_1", "beta_2")], axis=0)
    common = dict(seeds=seeds, scope=scope,
                  evidence=f"{framework}, Adam around lr {base_lr:g}, capped effects: {_effect_text(e)}")
    return [
        part_verdicts.judge("C003-1a", framework, {"": mean_std(pd.Series(top))}, ranking, **common,
                            rule="min(effect lr, effect batch) - max(effect weight decay, beta_1, beta_2) >= "
                                 f"{ranking:g}"),
        part_verdicts.judge("C003-1b", framework, {"": mean_std(e["weight decay (AdamW)"])}, matters, **common,
                            rule=f"effect of the regularisation strength over its range >= {matters:g} (AdamW "
                                 "decoupled decay)"),
        part_verdicts.judge("C003-1c", framework, {"beta_1": mean_std(e["beta_1"]), "beta_2": mean_std(e["beta_2"])},
                            matters, rule=f"effect of beta_1 and of beta_2 over their ranges >= {matters:g}", **common),
    ]


def judge_penalties(effect: dict, lr: float, ranges: dict, *, matters: float, seeds: int, scope: str):
    """Return the recorded framework-free verdict of C003-1b from the penalties in the loss (:mod:`lrlab.penalties`).

    ``effect`` maps ``"L1 penalty"``, ``"L2 penalty"`` to per-seed effects;
    ``ranges`` maps ``"L1"``, ``"L2"`` to the strengths swept (for the evidence).
    Holds only when names the penalty whose effect is at least ``matters``.
    """
    return part_verdicts.judge(
        "C003-1b", "none", {f"{h} in the loss": mean_std(d) for h, d in effect.items()}, matters, seeds=seeds,
        rule=f"effect of the regularisation strength over its range >= {matters:g} (numpy Adam, penalty in the loss)",
        scope=scope, evidence=f"numpy Adam at lr {lr:g}, " + ", ".join(f"{k} over {v}" for k, v in ranges.items())
        + f": {_effect_text(effect)}")


def plot_points(points: pd.DataFrame, hyperparameters, *, ylabel: str, title: str):
    """Draw one panel per hyperparameter: mean final val loss ± std over seeds at each swept value (log y).

    ``points`` is :func:`lrlab.sensitivity.spread` of the runs by
    ``["hyperparameter", "value"]``. Returns the figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(hyperparameters), figsize=(14, 3.2), sharey=True, squeeze=False)
    for ax, hyper in zip(axes[0], hyperparameters):
        part = points[points.hyperparameter == hyper]
        x = part.value.to_numpy()
        ax.errorbar(np.arange(len(x)), part["mean"], yerr=part["std"], fmt="o-", capsize=3)
        ax.set_xticks(np.arange(len(x)), [f"{v:g}" for v in x], rotation=45, fontsize=7)
        ax.set(title=hyper, yscale="log")
    axes[0][0].set(ylabel=ylabel)
    fig.suptitle(title, fontsize=10, y=1.03)
    return fig


def configurations(base: dict, ranges: dict) -> list[dict]:
    """Return the configurations that move one hyperparameter at a time away from ``base``.

    ``ranges`` maps a hyperparameter to the values it takes (its base value
    among them or not); every configuration is ``base`` with one value changed,
    plus ``base`` itself once, each tagged with ``"moved"`` (the name, or
    ``"base"``).

    >>> configurations({"lr": 0.1, "batch_size": 50}, {"lr": [0.01, 0.1], "batch_size": [25]})
    [{'lr': 0.1, 'batch_size': 50, 'moved': 'base'}, {'lr': 0.01, 'batch_size': 50, 'moved': 'lr'}, \
{'lr': 0.1, 'batch_size': 25, 'moved': 'batch_size'}]
    """
    unknown = set(ranges) - set(base)
    if unknown:
        raise ParameterError(f"ranges names {sorted(unknown)}, which base does not have; allowed: {sorted(base)}")
    configs = [base | {"moved": "base"}]
    for name, values in ranges.items():
        configs += [base | {name: v, "moved": name} for v in values if v != base[name]]
    return configs


def importance(results: pd.DataFrame, value: str = "value") -> pd.DataFrame:
    """Return, per hyperparameter and seed, how far ``value`` moves across that hyperparameter's range.

    ``results`` has one row per configuration of :func:`configurations` and seed
    (columns ``moved``, ``seed``, the hyperparameters and ``value``). A
    hyperparameter's range is its moved configurations plus the base. Its effect
    in a seed is the value at the range's best point minus the value at its
    worst point, the points chosen by their mean over seeds (so noise does not
    choose them), for a value to maximise. Rows: hyperparameters; columns: seeds.

    >>> r = pd.DataFrame({"moved": ["base", "lr", "base", "lr"], "seed": [0, 0, 1, 1], "lr": [0.1, 0.01] * 2,
    ...                   "value": [0.8, 0.5, 0.7, 0.6]})
    >>> importance(r).round(2).to_dict("index")
    {'lr': {0: 0.3, 1: 0.1}}
    """
    base = results[results.moved == "base"]
    rows = {}
    for name in [m for m in results.moved.unique() if m != "base"]:
        part = pd.concat([base, results[results.moved == name]]).pivot_table(index=name, columns="seed",
                                                                              values=value)
        mean = part.mean(axis=1)
        rows[name] = part.loc[mean.idxmax()] - part.loc[mean.idxmin()]
    return pd.DataFrame(rows).T
