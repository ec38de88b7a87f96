"""Weight decay × learning rate for plain SGD: the decay each rate tolerates, where a strong decay hurts (C003-2b).

With plain SGD (no momentum) a weight decay λ multiplies every weight by
``1 - η·λ`` before each gradient step, so the decay and the learning rate act
as a product. Chapter 11 trains a grid of both (:func:`sgd_runs`), reads from
the mean losses the largest decay each learning rate tolerates
(:func:`harmless_decays`) and, per seed, how much more a strong decay costs at
the largest learning rate that trains than at the smallest
(:func:`strong_decay_damage`, judged by :func:`judge`).
"""

from __future__ import annotations

import pandas as pd

from lrlab import many, one_at_a_time, part_verdicts, sensitivity
from lrlab.mlp_runs import fit_mlp

__all__ = ["harmless_decays", "judge", "sgd_runs", "strong_decay_damage"]


def sgd_runs(backend, data, seeds, *, decays, lrs, epochs: int, batch_size: int) -> pd.DataFrame:
    """Return one row per run (:func:`lrlab.sensitivity.final`) of SGD over every ``decays`` × ``lrs`` pair, per seed.

    One ``fit_many`` call per seed (:func:`lrlab.mlp_runs.fit_mlp`, the
    64-32-10 MLP); the columns ``weight_decay``, ``lr`` and ``seed`` name the run.
    """
    def run(seed):
        return fit_mlp(backend, data, "sgd", many.grid(weight_decay=decays, lr=list(lrs)), seed, epochs=epochs,
                       batch_size=batch_size)

    return sensitivity.sweep(run, epochs, seed=list(seeds))


def harmless_decays(grid: pd.DataFrame, *, cost: float = 0.1, trains_at: float = 0.5) -> pd.DataFrame:
    """Return, for each learning rate that trains without decay, the largest decay costing less than ``cost``.

    ``grid`` holds mean losses, decays down (the first row ``0.0``: no decay)
    and learning rates across (:func:`lrlab.sensitivity.heatmap_table`). A rate
    trains if its undecayed loss is at most ``trains_at``; a decay is harmless
    at a rate if its loss is at most ``(1 + cost)`` times the undecayed one (0
    when no decay is). ``lr x decay`` is the product: the fraction by which each
    step shrinks the weights.

    >>> grid = pd.DataFrame([[0.2, 0.1], [0.21, 0.3], [0.5, 0.9]], index=[0.0, 0.01, 0.1], columns=[0.1, 1.0])
    >>> harmless_decays(grid).to_numpy().tolist()
    [[0.1, 0.01, 0.001], [1.0, 0.0, 0.0]]
    """
    tolerated = {}
    for lr in grid.columns:
        fine = grid.index[(grid[lr] <= (1 + cost) * grid.loc[0.0, lr]) & (grid.index > 0)]
        tolerated[lr] = float(fine.max()) if len(fine) else 0.0
    trains = [lr for lr in grid.columns if grid.loc[0.0, lr] <= trains_at]
    tol = pd.DataFrame({"lr": trains, "largest harmless decay": [tolerated[lr] for lr in trains]})
    tol["lr x decay"] = tol.lr * tol["largest harmless decay"]
    return tol


def strong_decay_damage(runs: pd.DataFrame, decays, *, cap: float, strong_from: float = 0.01,
                        trains_at: float = 0.5) -> dict:
    """Return how much a strong decay raises the loss at the smallest and the largest learning rate that train.

    ``runs`` is :func:`sgd_runs`'s table; each loss is capped at ``cap``. The
    strong decay is the first of ``decays`` at least ``strong_from`` (else the
    largest); the rates that train are those whose undecayed mean loss is at
    most ``trains_at``. Returns ``strong``, ``low`` and ``high`` (the two rates),
    ``damage`` (per seed and rate: the strong decay's loss minus the undecayed
    one) and ``effect`` (per seed: damage at ``high`` minus at ``low``).
    """
    h = runs.assign(val_loss=runs.val_loss.clip(upper=cap))
    v = h.pivot_table(index=["seed", "weight_decay"], columns="lr", values="val_loss")
    mean0 = v.xs(0.0, level="weight_decay").mean()
    low, high = float(mean0[mean0 <= trains_at].index.min()), float(mean0[mean0 <= trains_at].index.max())
    strong = min([d for d in decays if d >= strong_from] or [max(decays)])
    damage = v.xs(strong, level="weight_decay") - v.xs(0.0, level="weight_decay")
    return {"strong": strong, "low": low, "high": high, "damage": damage, "effect": damage[high] - damage[low]}


def judge(framework: str, damage: dict, threshold: float, *, seeds: int, scope: str):
    """Return the recorded verdict of C003-2b from :func:`strong_decay_damage`: the effect at least ``threshold``."""
    d, low, high = damage["damage"], damage["low"], damage["high"]
    return part_verdicts.judge(
        "C003-2b", framework, {"": one_at_a_time.mean_std(damage["effect"])}, threshold, seeds=seeds, scope=scope,
        rule=f"damage of a strong decay at the largest trainable lr minus at the smallest >= {threshold:g}",
        evidence=f"{framework}: decay {damage['strong']:g} raises the capped val loss by {d[low].mean():.3f} at lr "
                 f"{low:.3g} and by {d[high].mean():.3f} at lr {high:.3g}")
