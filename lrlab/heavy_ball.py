"""Momentum (Polyak's heavy ball) as chapter 9 measures it: the update by hand, the ravine, the effective step.

Seed 000 writes momentum as a velocity, ``v ← μ v − η g``, ``w ← w + v``
(Keras's form). PyTorch keeps a buffer in units of gradient and applies the
learning rate last, ``b ← μ b + g``, ``w ← w − η b``: the same algorithm at a
constant η, not under a schedule. This module holds the mechanics of the
momentum chapter (E000-4, C000-4):

* :class:`Ravine` and :func:`ravine` — least squares on two centred, orthogonal
  features (variances 1 and 25) plus a bias: an exact quadratic whose
  curvatures are 2 and 50, where every step can be followed;
* :func:`by_hand` — the heavy-ball path on the ravine in numpy, in either form;
  :func:`framework_final` and :func:`framework_path` — a backend's own
  full-batch run of the same updates; :func:`form_gaps` — how far each run
  ends from each form;
* :func:`polyak` — the heavy ball's best ``(η, μ)`` for given curvatures;
  :func:`oscillation` and :func:`reversals` — sign changes of ``w − w*`` and the
  steps to converge; :func:`plot_paths` — the first updates on the ravine;
* :func:`effective_step` and :func:`equal_step_pairs` — momentum at η beside
  plain SGD at the same effective step ``η/(1−μ)`` and at the same raw η;
  :func:`pair_gap`;
* :func:`judge_wider_band`, :func:`judge_larger_rate`, :func:`judge_damping` —
  the verdicts of C000-4a, 4b and 4c from their measurements, with the rule and
  evidence written out (:func:`lrlab.lr_bands.judge`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrlab import lr_bands, report
from lrlab.params import ParameterError

__all__ = ["Ravine", "by_hand", "effective_step", "equal_step_pairs", "form_gaps", "framework_final",
           "framework_path", "judge_damping", "judge_larger_rate", "judge_wider_band", "oscillation", "pair_gap",
           "plot_paths", "polyak", "ravine", "reversals"]


@dataclass(frozen=True)
class Ravine:
    """Least squares ``mean((x w + b − y)²)`` on features ``x`` (n × 2) with its minimum at ``w_star``, ``b_star``."""

    x: np.ndarray
    y: np.ndarray
    w_star: np.ndarray  # (2, 1)
    b_star: float

    def gradient(self, w, b):
        """Return the loss's gradient ``(2/n xᵀ r, 2/n Σ r)`` with ``r = x w + b − y``."""
        n = len(self.x)
        r = self.x @ w + b - self.y
        return 2 / n * self.x.T @ r, 2 / n * r.sum()

    def curvatures(self) -> np.ndarray:
        """Return the eigenvalues of the loss's Hessian ``2/n [x 1]ᵀ[x 1]``, ascending."""
        n = len(self.x)
        design = np.c_[self.x, np.ones(n)]
        return np.linalg.eigvalsh(2 / n * design.T @ design)


def ravine(seed: int, n: int = 256, scales=(1.0, 5.0), w_star=(1.0, 1.0), b_star: float = 0.5) -> Ravine:
    """Return the two-weight ravine: centred orthogonal columns of variance ``scales**2``, exact targets.

    The columns are orthogonal to each other and to the constant column, so the
    Hessian is diagonal with curvatures ``2 scales**2`` (2 and 50 by default)
    and 2 for the bias. Float64, like lrlab's models.

    >>> np.round(ravine(0).curvatures(), 3).tolist()
    [2.0, 2.0, 50.0]
    """
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, 2)) - rng.standard_normal((n, 2)).mean(axis=0))
    q -= q.mean(axis=0)
    q, _ = np.linalg.qr(q)  # orthonormal columns, each orthogonal to the constant column after centring
    x = q * np.sqrt(n) * np.array(scales)
    w = np.array(w_star, dtype=float).reshape(2, 1)
    return Ravine(x=x, y=x @ w + b_star, w_star=w, b_star=b_star)


def by_hand(problem: Ravine, lr, mu: float, steps: int, form: str) -> np.ndarray:
    """Return the weights (w1, w2, b) after each of ``steps`` full-batch heavy-ball updates from zero (numpy).

    ``form="keras"`` (the seed's): ``v ← μ v − η g``, ``w ← w + v``;
    ``form="torch"``: ``b ← μ b + g``, ``w ← w − η b``. ``lr`` is a number or a
    schedule ``lr(k)`` (the rate of update k).

    >>> path = by_hand(ravine(0), 0.038, 0.9, 5, "keras")
    >>> path.shape, bool(np.allclose(path, by_hand(ravine(0), 0.038, 0.9, 5, "torch")))
    ((5, 3), True)
    """
    if form not in ("keras", "torch"):
        raise ParameterError(f"form = {form!r} is not allowed; expected 'keras' or 'torch'")
    w, b = np.zeros((2, 1)), 0.0
    vw, vb = np.zeros_like(w), 0.0
    path = []
    for k in range(steps):
        eta = lr(k) if callable(lr) else lr
        gw, gb = problem.gradient(w, b)
        if form == "keras":  # v <- mu v - eta g ; w <- w + v
            vw, vb = mu * vw - eta * gw, mu * vb - eta * gb
            w, b = w + vw, b + vb
        else:  # b <- mu b + g ; w <- w - eta b
            vw, vb = mu * vw + gw, mu * vb + gb
            w, b = w - eta * vw, b - eta * vb
        path.append(np.r_[w[:, 0], b])
    return np.array(path)


def _fit(backend, problem: Ravine, lr, mu: float, steps: int, callbacks=None):
    """Train the linear model from zero weights with the backend's own momentum SGD, full batch; return it."""
    model = backend.mlp((2, 1), output_activation="linear", weights=[(np.zeros((2, 1)), np.zeros(1))])
    extra = {} if callbacks is None else {"callbacks": callbacks}
    backend.fit(model, (problem.x, problem.y), optimizer=backend.optimizer("momentum", lr, momentum=mu), loss="mse",
                epochs=steps, batch_size=None, shuffle=False, **extra)
    return model


def framework_final(backend, problem: Ravine, lr, mu: float, steps: int) -> np.ndarray:
    """Return the weights (w1, w2, b) after the backend's own ``steps`` full-batch updates (``mlp((2, 1))``, linear)."""
    (kernel, bias), = backend.weights(_fit(backend, problem, lr, mu, steps))
    return np.r_[kernel[:, 0], bias]


def framework_path(backend, problem: Ravine, lr, mu: float, steps: int) -> np.ndarray:
    """Return the weights (w1, w2, b) after every update of the backend's own full-batch run (a WeightTrace)."""
    trace = lr_bands.WeightTrace()
    _fit(backend, problem, lr, mu, steps, callbacks=[trace])
    return trace.path


def form_gaps(problem: Ravine, backends: dict, runs: list, steps: int) -> pd.DataFrame:
    """Return, per run, the largest gaps between the two forms by hand and each backend's final weights.

    ``runs`` is a list of ``(label, lr, mu)`` (lr a number or a schedule; labels
    may repeat, e.g. one rate with two momenta). Columns:
    ``lr`` (the label), ``momentum``, ``|keras form - torch form|`` and, per
    backend, ``|name - keras form|`` and ``|name - torch form|`` (max over the
    weights after ``steps`` updates).
    """
    rows = []
    for label, lr, mu in runs:
        hand = {form: by_hand(problem, lr, mu, steps, form)[-1] for form in ("keras", "torch")}
        row = {"lr": label, "momentum": mu, "|keras form - torch form|": np.abs(hand["keras"] - hand["torch"]).max()}
        for name, backend in backends.items():
            final = framework_final(backend, problem, lr, mu, steps)
            row[f"|{name} - keras form|"] = np.abs(final - hand["keras"]).max()
            row[f"|{name} - torch form|"] = np.abs(final - hand["torch"]).max()
        rows.append(row)
    return pd.DataFrame(rows)


def polyak(lam_max: float, lam_min: float) -> tuple[float, float]:
    """Return the heavy ball's best ``(η, μ)`` on a quadratic with curvatures in ``[lam_min, lam_max]``.

    ``η = 4 / (√λmax + √λmin)²`` and ``μ = ((√κ − 1)/(√κ + 1))²`` with
    ``κ = λmax/λmin`` (Polyak, 1964).

    >>> [round(float(v), 4) for v in polyak(50.0, 2.0)]
    [0.0556, 0.4444]
    """
    kappa = lam_max / lam_min
    return 4 / (np.sqrt(lam_max) + np.sqrt(lam_min)) ** 2, ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2


def oscillation(path: np.ndarray, w_star: np.ndarray, floor: float, steps: int) -> dict:
    """Return the reversals along (w1) and across (w2) the ravine, and the steps until both are within 1e-3.

    A reversal is a sign change of ``w − w*`` while ``|w − w*|`` exceeds
    ``floor`` (:func:`lrlab.report.sign_changes`); ``steps`` only names the
    run's length in the last key (None: never within 1e-3).

    >>> oscillation(np.array([[0.0, 2.0], [2.0, 0.0], [1.0, 1.0]]), np.ones((2, 1)), 1e-6, 3)
    {'reversals along (flat)': 1, 'reversals across (steep)': 1, 'steps to 1e-3 (of 3)': 3}
    """
    error = path[:, :2] - w_star[:, 0]
    along, across = report.sign_changes(error, floor=floor)
    near = np.flatnonzero(np.abs(error).max(axis=1) < 1e-3)
    return {"reversals along (flat)": int(along), "reversals across (steep)": int(across),
            f"steps to 1e-3 (of {steps})": int(near[0]) + 1 if len(near) else None}


def reversals(problem: Ravine, backends: dict, settings: dict, steps: int, floor: float):
    """Return ``(table, paths)``: the :func:`oscillation` of every setting by hand (Keras's form) and in each backend.

    ``settings`` maps a label to ``(lr, mu)``. ``paths[source, label]`` is the
    path (``source`` "by hand" or a backend's name); ``table`` has one row per
    path: ``source``, ``run``, ``effective step`` ``lr/(1−mu)``, the
    :func:`oscillation` counts and ``reversals`` (along + across).
    """
    paths, rows = {}, []
    for label, (lr, mu) in settings.items():
        paths["by hand", label] = by_hand(problem, lr, mu, steps, "keras")
        for name, backend in backends.items():
            paths[name, label] = framework_path(backend, problem, lr, mu, steps)
    for (source, label), path in paths.items():
        lr, mu = settings[label]
        rows.append({"source": source, "run": label, "effective step": lr / (1 - mu),
                     **oscillation(path, problem.w_star, floor, steps)})
    table = pd.DataFrame(rows)
    return table.assign(reversals=table["reversals along (flat)"] + table["reversals across (steep)"]), paths


def plot_paths(paths: dict, w_star: np.ndarray, updates: int = 40, ax=None):
    """Draw the first ``updates`` steps of each path in the (w1, w2) plane from the origin, the minimum as a star."""
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(7, 4))[1]
    for i, (label, path) in enumerate(paths.items()):
        ax.plot(np.r_[0, path[:updates, 0]], np.r_[0, path[:updates, 1]], ".-", color=f"C{i}", lw=0.8, ms=3,
                label=label)
    ax.plot(*w_star[:, 0], "k*", ms=12)
    ax.set(xlabel="w1 (flat direction, curvature 2)", ylabel="w2 (steep direction, curvature 50)")
    ax.legend(fontsize=8)
    return ax


def effective_step(mu: float, part: pd.DataFrame):
    """Return momentum's effective step ``lr / (1 − mu)`` for the rows of ``part`` (a column ``lr``).

    >>> effective_step(0.9, pd.DataFrame({"lr": [0.1]})).round(6).tolist()
    [1.0]
    """
    return part.lr / (1 - mu)


def equal_step_pairs(means: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Return momentum μ at rate η beside plain SGD at the same effective step ``η/(1−μ)`` and at the same raw η.

    ``means`` is a table of mean losses, learning rates down and momenta across
    (:func:`lrlab.sensitivity.heatmap_table`), with a column ``0.0`` (plain
    SGD). A pair is kept where the grid holds ``η/(1−μ)`` and plain SGD's loss
    there is at most ``threshold`` (it trains well). Columns: ``momentum``,
    ``effective step``, ``plain``, ``with momentum``, ``plain at the same raw lr``.

    >>> means = pd.DataFrame({0.0: [0.5, 0.2], 0.9: [0.21, 3.0]}, index=[0.1, 1.0])
    >>> equal_step_pairs(means, 0.3).values.tolist()
    [[0.9, 1.0, 0.2, 0.21, 0.5]]
    """
    rows = []
    for mu in [m for m in means.columns if m > 0] if 0 in means.columns else []:
        for lr in means.index:
            match = [x for x in means.index if np.isclose(x, lr / (1 - mu), rtol=1e-6)]
            if match and means.loc[match[0], 0.0] <= threshold:
                rows.append({"momentum": mu, "effective step": match[0], "plain": means.loc[match[0], 0.0],
                             "with momentum": means.loc[lr, mu], "plain at the same raw lr": means.loc[lr, 0.0]})
    return pd.DataFrame(rows)


def pair_gap(pairs: pd.DataFrame, mu: float):
    """Return the largest ``|with momentum − plain|`` over the pairs at momentum ``mu`` (3 decimals), or a Words note.

    >>> pair_gap(pd.DataFrame({"momentum": [0.9], "plain": [0.2], "with momentum": [0.21]}), 0.9)
    0.01
    >>> pair_gap(pd.DataFrame(), 0.9)
    (no pair on this grid)
    """
    pair = pairs[pairs.momentum == mu] if len(pairs) else pairs
    if not len(pair):
        return lr_bands.Words("(no pair on this grid)")
    return round(float((pair["with momentum"] - pair.plain).abs().max()), 3)


def judge_wider_band(bands: pd.DataFrame, framework: str, mu: float, base: float, threshold: float, *, scope: str,
                     seeds: int):
    """Return the recorded verdict of C000-4a: the band of good LRs at ``mu`` wider than at ``base`` (per seed).

    ``bands`` is :func:`lrlab.lr_bands.seed_bands` pivoted: seeds down,
    (``band``, momentum) across. The effect is the mean over seeds of the band
    width at ``mu`` minus that at ``base``, in decades.
    """
    wider = lr_bands.mean_std(bands["band"][mu] - bands["band"][base])
    return lr_bands.judge(
        "C000-4a", framework, {"-": wider}, threshold, scope=scope, seeds=seeds,
        rule=f"band of good LRs at mu={mu:g} wider than at mu={base:g} by >= {threshold} decades (per seed)",
        evidence=f"band width mu={mu:g} minus mu={base:g}: {wider[0]:.2f} decades, seed std {wider[1]:.2f}")


def judge_larger_rate(bands: pd.DataFrame, framework: str, mu: float, base: float, threshold: float, *, scope: str,
                      seeds: int):
    """Return the recorded verdict of C000-4b: the largest good LR at ``mu`` above that at ``base`` (per seed).

    Counted twice: as effective step ``lr/(1−mu)`` (which adds
    ``log10((1−base)/(1−mu))`` decades) and as raw lr; ``bands`` as in
    :func:`judge_wider_band` (its ``high`` columns: log10 of the largest good LR).
    """
    raw = bands["high"][mu] - bands["high"][base]
    step = raw + np.log10((1 - base) / (1 - mu))
    return lr_bands.judge(
        "C000-4b", framework, {"counted as effective step lr/(1-mu)": lr_bands.mean_std(step),
                               "counted as raw lr": lr_bands.mean_std(raw)}, threshold, scope=scope, seeds=seeds,
        rule=f"largest good LR at mu={mu:g} larger than at mu={base:g} by >= {threshold} decades (per seed)",
        evidence=f"log10 largest good LR, mu={mu:g} minus mu={base:g}: raw {raw.mean():.2f} decades, as "
                 f"effective step {step.mean():.2f} (seed std {raw.std():.2f})")


def judge_damping(reversal_counts: pd.Series, framework: str, runs: tuple[str, str, str], threshold: float, *,
                  mu: float, floor: float, steps: int):
    """Return the recorded verdict of C000-4c: momentum removes a share of the reversals on the ravine.

    ``reversal_counts`` maps a run's label to its reversals (along + across);
    ``runs`` names the plain run, momentum at equal effective step and momentum
    at equal raw lr. The effect of each condition is ``1 − R_momentum/R_plain``;
    deterministic runs (no seed noise).
    """
    plain, at_step, at_raw = runs
    removed = {"at equal effective step": 1 - reversal_counts[at_step] / reversal_counts[plain],
               "at equal raw lr": 1 - reversal_counts[at_raw] / reversal_counts[plain]}
    return lr_bands.judge(
        "C000-4c", framework, {k: (float(v), None) for k, v in removed.items()}, threshold, seeds=None,
        regime="surfaces",
        scope=f"2-weight ravine (least squares, curvatures 2 and 50), linear model, full batch, {steps} "
              "updates, deterministic",
        rule=f"momentum {mu:g} removes >= {threshold:.0%} of the reversals (sign changes of w - w*, |w - w*| > "
             f"{floor:g}, along + across)",
        evidence=f"reversals: plain {reversal_counts[plain]:.0f}, mu=0.9 at equal effective step "
                 f"{reversal_counts[at_step]:.0f}, at equal raw lr {reversal_counts[at_raw]:.0f}")
