"""Gradient descent on one weight's quadratic: regimes, speed, stalling and chapter 1's verdicts (C000-1, C004-1).

On ``L(w) = a·(w − c)²`` (:class:`lrlab.data.Quadratic`) a step at constant rate
η multiplies the distance to the minimum by ``q = 1 − η·L''``. The functions
here run each backend's ``descend`` (the framework's own SGD, float32) and read
what the seeds claim of too large and too small rates:

* :func:`regimes` — the measured ``q`` beside the predicted one, per rate;
* :func:`plot_regimes` — ``w`` over the first steps and the distance to the minimum;
* :func:`steps_to_converge` — steps to come within a tolerance, predicted and measured;
* :func:`stall` — the share of steps in which a tiny rate leaves ``w`` where it was;
* :func:`moves` — overshoot, loss turns and loss growth at the too-large rates;
* :func:`lr_ranges`, :func:`growth_by_range`, :func:`slowdown` — the effects the rules judge;
* :func:`judge` — the six part verdicts of one framework.

The predicted number of steps from ``w0`` to within ``tol`` at rate η is
``⌈ln(tol / |w0 − c|) / ln(1 − 2aη)⌉`` (for ``a = 1``):

>>> from lrlab.data import Quadratic
>>> predicted_steps(Quadratic(), 5.0, 0.1)
39
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.lr_evidence import conditions
from lrlab.report import sign_changes
from lrlab.verdicts import Verdict, decide, survives

__all__ = ["growth_by_range", "judge", "lr_ranges", "moves", "plot_regimes", "predicted_steps", "regimes",
           "slowdown", "stall", "steps_to_converge"]


def regimes(backends: dict, quadratic, w0: float, lrs, steps: int = 30) -> tuple[pd.DataFrame, dict]:
    """Return ``(table, runs)``: ``steps`` SGD steps from ``w0`` at each constant rate in each backend.

    ``runs`` maps ``(framework, lr)`` to the backend's trace. ``table`` has one
    row per rate and framework: the predicted ``q`` (:meth:`~lrlab.data.Quadratic.contraction`),
    the measured one (the first step's ``(w₁ − c) / (w0 − c)``), the regime the
    curvature predicts and ``|w − c|`` after the last step.
    """
    rows, runs = [], {}
    for lr in lrs:
        for name, backend in backends.items():
            trace = backend.descend(quadratic.loss, w0, lr, steps)
            runs[name, lr] = trace
            measured_q = (trace.w[0] - quadratic.c) / (w0 - quadratic.c)
            rows.append({"lr": lr, "framework": name, "predicted q": round(float(quadratic.contraction(lr)), 4),
                         "measured q": round(float(measured_q), 4), "regime": quadratic.regime(lr),
                         f"|w - c| after {steps} steps": f"{abs(float(trace.w.iloc[-1]) - quadratic.c):.3g}"})
    return pd.DataFrame(rows), runs


def plot_regimes(runs: dict, quadratic, w0: float, lrs, frameworks):
    """Draw each rate's ``w`` over the first 12 steps (left) and ``|w − c|`` on a log axis (right); return the axes.

    One colour per rate; solid TensorFlow, dashed PyTorch. A distance of 0 is
    drawn at ``1e-12``.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, lr in enumerate(lrs):
        for name in frameworks:
            trace = runs[name, lr]
            steps_axis = np.concatenate([[-1], trace.step])  # step -1 shows w0
            distance = np.abs(np.concatenate([[w0], trace.w]) - quadratic.c)
            style = dict(color=f"C{i}", ls="-" if name == "tf" else "--",
                         label=f"lr={lr:g}" if name == frameworks[0] else None)
            axes[0].plot(steps_axis[:13], np.concatenate([[w0], trace.w])[:13], **style)
            axes[1].semilogy(steps_axis, np.maximum(distance, 1e-12), **style)
    axes[0].set(xlabel="step", ylabel="w", ylim=(-10, 10), title="the first 12 steps (solid tf, dashed torch)")
    axes[0].legend(fontsize=7, ncol=2)
    axes[1].set(xlabel="step", ylabel="|w + 1| (log; 0 drawn at 1e-12)", title="distance to the minimum")
    return axes


def predicted_steps(quadratic, w0: float, lr: float, tol: float = 1e-3) -> int:
    """Return ``⌈ln(tol / |w0 − c|) / ln(1 − 2aη)⌉``: the steps a constant rate needs to come within ``tol``."""
    if w0 == quadratic.c:
        return 0
    return int(np.ceil(np.log(tol / abs(w0 - quadratic.c)) / np.log(1 - 2 * lr)))


def steps_to_converge(backends: dict, quadratic, w0: float, lrs, tol: float = 1e-3) -> pd.DataFrame:
    """Return, per rate and framework, the predicted and the measured steps to come within ``tol`` of the minimum.

    Each backend runs :func:`predicted_steps` + 5 steps; the measured count is
    the first step after which ``|w − c| < tol``.
    """
    rows = []
    for lr in lrs:
        predicted = predicted_steps(quadratic, w0, lr, tol)
        for name, backend in backends.items():
            trace = backend.descend(quadratic.loss, w0, lr, predicted + 5)
            reached = int(np.argmax(np.abs(trace.w.to_numpy() - quadratic.c) < tol)) + 1
            rows.append({"lr": lr, "framework": name, "predicted steps": predicted, "measured steps": reached})
    return pd.DataFrame(rows)


def stall(backends: dict, quadratic, w0: float, lr: float = 1e-9, steps: int = 1000) -> tuple[dict, list[str]]:
    """Return ``({framework: share}, lines)``: the share of ``steps`` steps at ``lr`` after which ``w`` is still ``w0``.

    In float32 a step smaller than half the spacing of float32 numbers at ``w``
    rounds back to ``w``. ``lines`` print that spacing, the size of one step and,
    per framework, where ``w`` ended.
    """
    spacing = float(np.spacing(np.float32(w0)))
    lines = [f"float32 spacing at w = {w0:g}: {spacing:.3g}; one step at lr {lr:g} would move w by "
             f"{lr * abs(float(quadratic.grad(w0))):.3g}"]
    stalled = {}
    for name, backend in backends.items():
        trace = backend.descend(quadratic.loss, w0, lr, steps)
        stalled[name] = float((trace.w == np.float32(w0)).mean())  # share of the steps after which w is still w0
        lines.append(f"{name:>5}: after {steps} steps at lr {lr:g}, w = {float(trace.w.iloc[-1]):.9g} "
                     f"(never moved: {stalled[name] == 1})")
    return stalled, lines


def moves(runs: dict, quadratic, w0: float, lrs, frameworks, floor: float = 1e-6) -> pd.DataFrame:
    """Return, per framework and rate, how the weight and the loss moved over a run of :func:`regimes`.

    Columns: ``w crosses the minimum`` and ``loss changes direction`` (sign
    changes of ``w − c`` and of the loss's steps, larger than ``floor``:
    :func:`lrlab.report.sign_changes`), and ``loss after 30 / initial``.
    """
    initial_loss = float(quadratic.loss(np.float32(w0)))
    return pd.DataFrame([{"framework": name, "lr": lr,
                          "w crosses the minimum": int(sign_changes(runs[name, lr].w - quadratic.c, floor)[0]),
                          "loss changes direction": int(sign_changes(np.diff(runs[name, lr].loss), floor)[0]),
                          "loss after 30 / initial": float(runs[name, lr].loss.iloc[-1]) / initial_loss}
                         for name in frameworks for lr in lrs])


def lr_ranges(quadratic) -> dict:
    """Return the three ranges of too-large rates, ``{name: predicate on lr}``: below, at and above ``2/L''``."""
    edge = 2 / quadratic.curvature
    return {"1/L'' < lr < 2/L''": lambda lr: lr < edge, "lr = 2/L''": lambda lr: lr == edge,
            "lr > 2/L''": lambda lr: lr > edge}


def growth_by_range(moved: pd.DataFrame, ranges: dict) -> dict:
    """Return, per range of :func:`lr_ranges`, the largest loss after 30 steps / initial loss of ``moved``'s rows."""
    return {c: float(moved[[inside(lr) for lr in moved.lr]]["loss after 30 / initial"].max())
            for c, inside in ranges.items()}


def slowdown(steps_at: pd.Series) -> float:
    """Return how much the steps to converge grow when the rate is cut tenfold: min of 0.03/0.3 and 0.01/0.1.

    ``steps_at`` maps the rates 0.3, 0.1, 0.03 and 0.01 to measured steps.
    """
    return min(steps_at[0.03] / steps_at[0.3], steps_at[0.01] / steps_at[0.1])


def judge(name: str, moved: pd.DataFrame, steps_at: pd.Series, stalled: float, *, w0: float, too_large, ranges: dict,
          rules: dict, scope: str) -> list[Verdict]:
    """Return framework ``name``'s verdicts on C000-1a, C004-1a, C000-1b, C000-1c, C004-1c and C000-1d.

    ``moved`` is its rows of :func:`moves`, ``steps_at`` its measured steps per
    rate (:func:`steps_to_converge`), ``stalled`` its share of :func:`stall`.
    The thresholds: 2 loss turns (C000-1a; C004-1a also needs an overshoot), a
    tenfold loss growth per range (C000-1b, "holds only when"), a slowdown of 2
    (C000-1c, C004-1c) and a stalled share of one half (C000-1d). Each verdict
    is deterministic (no seed noise); robust when the word survives the
    threshold × 0.5 and × 1.5.
    """
    def verdict(part, effect, threshold, evidence, word=None, condition="", robust=None):
        word = word or decide(effect, None, threshold)
        robust = survives(effect, None, threshold) if robust is None else robust
        return Verdict(part=part, framework=name, word=word, rule=rules[part], evidence=evidence,
                       effect=float(f"{effect:.2g}"), threshold=threshold, robust=robust, condition=condition,
                       scope=scope, regime="quadratic")

    turns, crossings = int(moved["loss changes direction"].max()), int(moved["w crosses the minimum"].min())
    growth = growth_by_range(moved, ranges)
    word, condition, robust = conditions(growth, threshold=10)
    seen = (f"at every lr in {list(too_large)} w crosses the minimum at least {crossings} times in 30 steps, and the "
            f"loss changes direction at most {turns} times")
    slower = slowdown(steps_at)
    found = [verdict("C000-1a", turns, 2, seen),
             verdict("C004-1a", turns, 2, seen, word=None if crossings else "does not hold"),
             verdict("C000-1b", max(growth.values()), 10, "loss after 30 steps / initial: " + ", ".join(
                 f"{c}: {g:.2g}" for c, g in growth.items()), word=word, condition=condition, robust=robust)]
    found += [verdict(part, slower, 2, "steps to 1e-3: " + ", ".join(f"lr {lr:g}: {n}" for lr, n in steps_at.items()))
              for part in ("C000-1c", "C004-1c")]
    found.append(verdict("C000-1d", stalled, 0.5, f"w = {w0:g} moved in none of 1,000 steps at lr 1e-9"
                         if stalled == 1 else f"w stayed put in {stalled:.0%} of 1,000 steps"))
    return found
