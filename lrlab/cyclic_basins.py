"""Where a cyclical learning rate takes gradient descent on a one-weight loss with known minima (chapter 12, C002-2).

Seed 002 says a cyclical learning rate helps training leave local minima
(C002-2a) and can find the global minimum (C002-2b). On a
:class:`lrlab.data.Wells` surface the minima are known, so both can be
counted. Every run is a framework's own SGD from many starts at once
(:func:`lrlab.many_starts.descend_many`):

* :func:`escapes` starts next to each minimum and reports where each run ends;
  :func:`escape_agreement` compares the two frameworks' runs;
* :func:`count_ends` starts from many points on several surfaces;
  :func:`left_shares` and :func:`global_shares` read the counts;
* :func:`judge_leave` and :func:`judge_find` record the verdicts of C002-2a and
  C002-2b from those shares;
* :func:`plot_surfaces`, :func:`plot_escape`, :func:`plot_ends` and
  :func:`plot_schedules` draw the chapter's figures.

A minimum is *sharp* when no learning rate above ``WIDE_ABOVE`` can hold a run
there (its ``max_stable_lr``, ``2/L''``, is below it), *wide* otherwise, and
*global* when it is the deepest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import lr_bands, many_starts, report

__all__ = ["WIDE_ABOVE", "count_ends", "escape_agreement", "escapes", "global_shares", "judge_find", "judge_leave",
           "left_shares", "minimum_kind", "minimum_name", "plot_ends", "plot_escape", "plot_schedules",
           "plot_surfaces"]

#: a minimum that can hold a run at a learning rate above this is wide, else sharp
WIDE_ABOVE = 0.5


def minimum_kind(surface, index: int) -> str:
    """Return ``"global"``, ``"wide"`` or ``"sharp"`` for row ``index`` of ``surface.minima()``.

    >>> from lrlab.data import Wells
    >>> [minimum_kind(Wells(), i) for i in range(3)]
    ['wide', 'sharp', 'global']
    """
    row = surface.minima().iloc[index]
    return "global" if row["global"] else ("wide" if row.max_stable_lr > WIDE_ABOVE else "sharp")


def minimum_name(surface, index: int) -> str:
    """Return a minimum's position and kind, e.g. ``"+2.49 (global)"``, or ``"none"`` for ``index < 0``.

    >>> from lrlab.data import Wells
    >>> minimum_name(Wells(), 2), minimum_name(Wells(), -1)
    ('+2.49 (global)', 'none')
    """
    return "none" if index < 0 else f"{surface.minima().w.iloc[index]:+.2f} ({minimum_kind(surface, index)})"


def escapes(frameworks, surface, schedule, max_lrs, steps: int, offset: float = 0.01):
    """Return ``(table, traces)``: runs started ``offset`` to the right of each minimum of ``surface``.

    ``schedule(max_lr)`` makes the learning-rate schedule for each of
    ``max_lrs``; each framework runs ``steps`` updates. ``table`` has one row per
    run: ``max_lr``, ``framework``, ``start`` and ``end`` (:func:`minimum_name`;
    a run ends at a minimum when it is within ``0.05`` of it) and ``left``.
    ``traces[framework, max_lr, i]`` is the path of the run started at minimum ``i``.
    """
    minima, rows, traces = surface.minima(), [], {}
    for max_lr in max_lrs:
        for name in frameworks:
            path = many_starts.descend_many(name, surface.loss, minima.w + offset, schedule(max_lr), steps)
            for i, end in enumerate(surface.landed(path[-1])):
                traces[name, max_lr, i] = path[:, i]
                rows.append({"max_lr": max_lr, "framework": name, "start": minimum_name(surface, i),
                             "end": minimum_name(surface, int(end)), "left": end != i})
    return pd.DataFrame(rows), traces


def escape_agreement(table: pd.DataFrame, traces: dict) -> str:
    """Return the line comparing TensorFlow's and PyTorch's runs of :func:`escapes`: same end, largest path gap.

    The gap is reported as "below 1e-5", "above 0.1" (a bouncing run amplifies
    float32 rounding until the paths part) or to one significant digit.
    """
    gap = max(float(np.abs(traces[key].astype(np.float64) - traces[("torch", *key[1:])]).max())
              for key in traces if key[0] == "tf")
    same_end = table.groupby(["max_lr", "start"])["end"].nunique().eq(1).all()
    return (f"same end in both frameworks: {bool(same_end)}; largest |w_tf - w_torch| along a run: "
            + ("below 1e-5" if gap < 1e-5 else "above 0.1 (the bouncing phase amplifies float32 rounding)"
               if gap > 0.1 else f"{gap:.0e}"))


def count_ends(frameworks, surfaces: dict, schedule, max_lrs, w0s, steps: int) -> pd.DataFrame:
    """Return one row per run from each of ``w0s`` on each surface, for each ``max_lr`` and framework.

    Columns: ``framework``, ``surface`` (the key in ``surfaces``), ``max_lr``,
    ``w0``, ``start kind`` (:func:`minimum_kind` of the start's basin: where a
    small constant rate ends), ``end`` (:func:`minimum_name`), ``left`` (ended
    outside its start basin's minimum), ``small lr at global`` (the start's basin
    is the global minimum's) and ``cycle at global`` (the run ends there).
    """
    rows = []
    for label, surface in surfaces.items():
        minima, start_basin = surface.minima(), surface.basin(w0s)
        for max_lr in max_lrs:
            for name in frameworks:
                ends = surface.landed(many_starts.descend_many(name, surface.loss, w0s, schedule(max_lr), steps)[-1])
                for w0, b, e in zip(w0s, start_basin, ends):
                    rows.append({"framework": name, "surface": label, "max_lr": max_lr, "w0": w0,
                                 "start kind": minimum_kind(surface, b), "end": minimum_name(surface, int(e)),
                                 "left": b != e, "small lr at global": bool(minima["global"].iloc[b]),
                                 "cycle at global": bool(e >= 0 and minima["global"].iloc[e])})
    return pd.DataFrame(rows)


def left_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Return the share of the runs started in a local minimum's basin that left it, by max_lr and kind."""
    local = counts[counts["start kind"] != "global"]
    return local.groupby(["framework", "max_lr", "start kind"])["left"].mean().unstack("framework")


def global_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Return the share of all starts ending at the global minimum, small constant rate and cycle, per surface."""
    return counts.groupby(["surface", "max_lr", "framework"])[["small lr at global", "cycle at global"]].mean()


def judge_leave(framework: str, left: pd.DataFrame, max_lrs, threshold: float, *, scope: str):
    """Return the recorded verdict of C002-2a: the share that leaves (to one decimal) above ``threshold``.

    One condition per ``max_lr`` and kind of local minimum (sharp, wide) in
    :func:`left_shares`; a small constant rate leaves none, so the share is the effect.
    """
    leave = {f"{k} minimum, max_lr {m:g}": (round(float(left.loc[(m, k), framework]), 1), None)
             for m in max_lrs for k in ("sharp", "wide") if (m, k) in left.index}
    return lr_bands.judge(
        "C002-2a", framework, leave, threshold, seeds=None, scope=scope, regime="surfaces",
        rule=f"share of runs started in a local minimum's basin that end elsewhere > {threshold} "
             "(small constant LR: 0)",
        evidence="; ".join(f"{k}: {report.share_text(v[0])}" for k, v in leave.items()))


def judge_find(framework: str, at_global: pd.DataFrame, surfaces, max_lrs, threshold: float, *, scope: str):
    """Return the recorded verdict of C002-2b: the share of starts the cycle adds at the global minimum.

    One condition per surface and ``max_lr`` of :func:`global_shares`: the share
    ending at the global minimum under the cycle minus under a small constant
    rate, to one decimal, at least ``threshold``.
    """
    g = at_global.xs(framework, level="framework")
    gain = {f"{s.split()[0]} global minimum, max_lr {m:g}":
            (round(float(g.loc[(s, m), "cycle at global"] - g.loc[(s, m), "small lr at global"]), 1), None)
            for s in surfaces for m in max_lrs}
    return lr_bands.judge(
        "C002-2b", framework, gain, threshold, seeds=None, scope=scope, regime="surfaces",
        rule=f"share of starts ending at the global minimum, cycle minus small constant LR, >= {threshold}",
        evidence="; ".join(f"{s}, max_lr {m:g}: cycle {report.share_text(g.loc[(s, m), 'cycle at global'])}, small "
                           f"LR {report.share_text(g.loc[(s, m), 'small lr at global'])}" for s in surfaces
                           for m in max_lrs))


def plot_surfaces(surfaces: dict, lim: float = 5.0):
    """Draw each surface's loss over ``[-lim, lim]`` with its minima (dots) and global minimum (star); return ax."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.4))
    grid = np.linspace(-lim, lim, 801)
    for i, (label, surface) in enumerate(surfaces.items()):
        ax.plot(grid, surface.loss(grid), color=f"C{i}", label=label)
        minima = surface.minima()
        ax.plot(minima.w, minima.loss, "o", color=f"C{i}", ms=5)
        best = minima[minima["global"]]
        ax.plot(best.w, best.loss, "*", color=f"C{i}", ms=14)
    ax.set(xlabel="w", ylabel="L(w)", title="the two surfaces (dots: minima, stars: global minima)")
    ax.legend()
    return ax


def plot_escape(traces: dict, surface, schedule, max_lrs, frameworks, steps: int, start: int):
    """Draw the schedules (top) and the runs started next to minimum ``start`` (bottom, tf solid, torch dashed)."""
    import matplotlib.pyplot as plt

    fig, (ax_lr, ax_w) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for j, max_lr in enumerate(max_lrs):
        ax_lr.plot(schedule(max_lr)(np.arange(steps)), color=f"C{j}", label=f"max_lr {max_lr:g}")
        for name in frameworks:
            ax_w.plot(np.arange(steps), traces[name, max_lr, start], color=f"C{j}",
                      ls="-" if name == "tf" else "--", label=f"{name}, max_lr {max_lr:g}")
    for w in surface.minima().w:
        ax_w.axhline(w, color="grey", lw=0.6)
    ax_lr.set(ylabel="learning rate", title=f"runs started next to the minimum {minimum_name(surface, start)}")
    ax_lr.legend(fontsize=8)
    ax_w.set(xlabel="update", ylabel="w (grey: the minima)")
    ax_w.legend(fontsize=8, ncol=2)
    return fig


def plot_ends(counts: pd.DataFrame, max_lr: float, framework: str):
    """Draw, per surface, where each start's run ends (red: it left its start basin), for one max_lr and framework."""
    import matplotlib.pyplot as plt

    shown = counts[(counts.max_lr == max_lr) & (counts.framework == framework)]
    surfaces = shown.surface.unique()
    fig, axes = plt.subplots(1, len(surfaces), figsize=(10, 3.4), sharey=True, squeeze=False)
    for ax, (label, part) in zip(axes[0], shown.groupby("surface", sort=False)):
        ends = part.end.astype("category")
        ax.scatter(part.w0, ends.cat.codes, c=part.left, cmap="coolwarm", s=14)
        ax.set_yticks(range(len(ends.cat.categories)), ends.cat.categories)
        ax.set(xlabel="start w0", title=f"{label} (red: left its start basin)")
    axes[0][0].set(ylabel=f"where the run ends ({framework}, max_lr {max_lr:g})")
    return fig


def plot_schedules(curves: dict, labels, framework: str, seeds):
    """Draw each schedule's learning rate (left) and training loss per seed (right, log) of one framework's runs.

    ``curves[framework, label, seed]`` is one model's ``fit_many`` history.
    """
    import matplotlib.pyplot as plt

    seeds = list(seeds)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, label in enumerate(labels):
        history = curves[framework, label, seeds[0]]
        axes[0].plot(history.epoch, history.lr, color=f"C{i}", label=label)
        for s in seeds:
            h = curves[framework, label, s]
            axes[1].semilogy(h.epoch, h.loss, color=f"C{i}", lw=1, label=label if s == seeds[0] else None)
    axes[0].set(xlabel="epoch", ylabel="LR of the epoch's last update", title="schedules")
    axes[1].set(xlabel="epoch", ylabel="training loss (log)", title=f"training loss, {len(seeds)} seeds ({framework})")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    return fig
