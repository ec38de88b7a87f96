"""Range tests read and checked by training: their suggestions in words and figures, and what training at them gives.

Chapter 4 (E002-1, E004-2, C001-2b) runs :func:`lrlab.range_test.run` in both
frameworks and then does what a suggestion deserves: it trains at the suggested
rates and at a reference grid of constant rates, and compares. This module
holds the mechanics of that chapter, free of any framework:

* the test in words and figures: :func:`suggestion_lines` (each framework's
  suggestions, why it stopped, where the raw and the smoothed loss are lowest,
  and how far the two frameworks' losses are apart), :func:`plot_tests`,
  :func:`epoch_lines`, :func:`epoch_table` and :func:`plot_epoch_tests` for the
  epoch-wise test (E004-2);
* the check runs: :func:`suggested` lists the finite suggestions of several
  tests, :func:`check_table` lays out the validation loss at each suggestion
  times a few factors, :func:`reference_text` and :func:`plot_checks` show them
  beside the reference grid;
* the verdict's runs on several initial weights: :func:`suggestions_by_draw`
  (every test on every draw) and :func:`excess_over_grid` (training at every
  suggestion and at the grid, and the excess of the suggestion's loss over the
  grid's best: ``L_suggested / L_best − 1``).

>>> round_sig(0.065536), round_sig(1.2999)
(0.066, 1.3)
>>> h = pd.DataFrame({"lr": [0.1, 0.2, 0.4, 0.8, 1.6, 3.2], "loss": [2.0, 1.8, 1.0, 0.9, 1.2, 3.0]})
>>> float(lowest_loss_lr(h, window=3))  # the 3-iteration mean is lowest around 0.4 .. 1.6
0.8
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.digits_mlp import final_rows
from lrlab.plots import FRAMEWORK_STYLE, loss_vs_lr
from lrlab.report import loss_text

__all__ = ["check_table", "check_text", "epoch_lines", "epoch_table", "excess_over_grid", "lowest_loss_lr",
           "plot_checks", "plot_epoch_tests", "plot_tests", "reference_text", "round_sig", "suggested",
           "suggestion_lines", "suggestions_by_draw", "suggestions_record"]


def round_sig(value: float, digits: int = 2) -> float:
    """Return ``value`` rounded to ``digits`` significant digits, as the chapter prints and glues a rate."""
    return float(f"{value:.{digits}g}")


def lowest_loss_lr(history: pd.DataFrame, window: int = 5) -> float:
    """Return the LR where the raw loss, averaged over ``window`` centred iterations, is lowest."""
    return history.lr[history.loss.rolling(window, center=True).mean().idxmin()]


def _line(color: str, name: str) -> dict:
    """Return a framework's colour and line style of :data:`lrlab.plots.FRAMEWORK_STYLE` (no markers)."""
    style = FRAMEWORK_STYLE.get(name, {})
    return {"color": style.get("color", color), "linestyle": style.get("linestyle", "-")}


def suggestion_lines(tests: dict) -> str:
    """Return one line per framework's test: iterations, stop reason, suggestions (2 digits), lowest losses.

    The lowest losses are :func:`lowest_loss_lr` (5-iteration mean) and the LR
    of the lowest smoothed loss. With two frameworks a last line gives the
    largest gap between their losses of one update, while the LR is below 1 and
    over the whole test.
    """
    lines = []
    for name, test in tests.items():
        text = ", ".join(f"{rule} {lr:.2g}" for rule, lr in test.suggestions.items())
        h = test.history
        lines.append(f"{name:>5}: {len(h)} updates, stop: {test.stop_reason}; suggestions: {text}; lowest loss "
                     f"(5-update mean) at lr {lowest_loss_lr(h):.2g}, lowest smoothed loss at "
                     f"{h.lr[h.smooth_loss.idxmin()]:.2g}")
    if len(tests) == 2:
        a, b = (t.history for t in tests.values())
        n = min(len(a), len(b))
        gap = np.abs(a.loss.to_numpy()[:n] - b.loss.to_numpy()[:n])
        low = a.lr.to_numpy()[:n] < 1
        lines.append(f"largest |loss_tf - loss_torch| of one update: {gap[low].max():.0e} while lr < 1, "
                     f"{gap.max():.0e} over the whole test")
    return "\n".join(lines)


def plot_tests(tests: dict, title: str, *, ax=None, xscale: str = "log", ylim=(0, 4)):
    """Draw raw (faint) and smoothed loss against the LR per framework, the first's suggestions dotted; return ax."""
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(7, 3.8))[1]
    for i, (name, test) in enumerate(tests.items()):
        h, style = test.history, _line(f"C{i}", name)
        ax.plot(h.lr, h.loss, color=style["color"], alpha=0.25, lw=0.8)
        ax.plot(h.lr, h.smooth_loss, label=f"{name} smoothed", **style)
    first = next(iter(tests.values()))
    for i, (rule, lr) in enumerate(first.suggestions.items()):
        if np.isfinite(lr):
            ax.axvline(lr, color=f"C{i + 2}", lw=1, ls=":", label=f"{rule} {lr:.2g}")
    ax.set(xscale=xscale, ylim=ylim, xlabel="learning rate", ylabel="training loss", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    return ax


def suggested(tests_by_name: dict) -> list[tuple[str, str, float]]:
    """Return ``[(test name, rule, lr), ...]``: the finite suggestions of each test, from its first framework."""
    return [(test_name, rule, lr) for test_name, tests in tests_by_name.items()
            for rule, lr in next(iter(tests.values())).suggestions.items() if np.isfinite(lr)]


def suggestions_record(tests_by_name: dict) -> dict:
    """Return ``{test name: {rule: lr to 2 digits}}`` of the first framework's finite suggestions (for a record)."""
    return {t: {r: round_sig(lr) for r, lr in next(iter(tests.values())).suggestions.items() if np.isfinite(lr)}
            for t, tests in tests_by_name.items()}


def reference_text(reference: dict, failed_above: float) -> str:
    """Return the reference grid as a table: per LR, each framework's final val loss (``"> cut"`` above) and acc."""
    first = next(iter(reference.values()))
    table = pd.DataFrame({"lr": [f"{lr:.2g}" for lr in first.lr]})
    for name, r in reference.items():
        table[f"{name} val loss"] = r.val_loss.map(lambda v: loss_text(v, failed_above)).to_numpy()
        table[f"{name} val acc %"] = (100 * r.val_accuracy).map(lambda v: f"{v:.1f}").to_numpy()
    return table.to_string(index=False)


def check_table(finals: dict, suggestions: list, factors, skip: int) -> pd.DataFrame:
    """Return one row per suggestion and framework with the final val loss at the suggestion times each factor.

    ``finals`` maps a framework to :func:`lrlab.digits_mlp.final_rows` of runs
    whose first ``skip`` models are something else (the reference grid) and the
    rest ``suggestions`` × ``factors``, in that order. Columns: ``test``,
    ``rule``, ``suggested``, ``framework``, then ``x<factor>`` (2 digits).
    """
    losses = {name: f.val_loss.to_numpy()[skip:].reshape(len(suggestions), len(factors))
              for name, f in finals.items()}
    return pd.DataFrame([{"test": test_name, "rule": rule, "suggested": lr, "framework": name,
                          **{f"x{factor:.2g}": v for factor, v in zip(factors, losses[name][i])}}
                         for i, (test_name, rule, lr) in enumerate(suggestions) for name in finals])


def check_text(checks: pd.DataFrame, failed_above: float) -> str:
    """Return :func:`check_table` as text: rates to 2 digits, losses by :func:`lrlab.report.loss_text`."""
    shown = checks.copy()
    shown["suggested"] = shown.suggested.map(lambda v: f"{v:.2g}")
    for col in [c for c in shown.columns if c.startswith("x")]:
        shown[col] = shown[col].map(lambda v: loss_text(v, failed_above))
    return shown.to_string(index=False)


def plot_checks(reference: dict, checks: pd.DataFrame, band, *, ylabel: str, cap: float = 2.6):
    """Draw the reference grid's loss per framework, the good band shaded, each test's suggestions as dots; return ax.

    The dots are the first framework's losses at the suggested rates (column
    ``x1``), one colour per test; losses above ``cap`` are drawn at ``cap``.
    """
    curves = {f"{name}: reference grid": (r.lr, r.val_loss) for name, r in reference.items()}
    ax = loss_vs_lr(curves, band=band, cap=cap, ylabel=ylabel, band_label="within 25 % of the best loss",
                    title="where the suggestions land on the reference curve")
    first = checks[checks.framework == checks.framework.iloc[0]]
    for i, (test_name, part) in enumerate(first.groupby("test", sort=False)):
        ax.scatter(part.suggested, np.minimum(part["x1"].fillna(np.inf), cap), color=f"C{i + 2}", zorder=3,
                   label=f"{test_name} test: at the suggestion")
    ax.set_ylim(0, cap * 1.05)
    ax.legend(fontsize=7)
    return ax


def epoch_lines(tests: dict) -> str:
    """Return one line per framework's epoch-wise test: epochs, stop reason, and its epoch of lowest val loss."""
    lines = []
    for name, test in tests.items():
        h = test.history
        best = h.loc[h.val_loss.idxmin()]
        lines.append(f"{name:>5}: {len(h)} epochs, stop: {test.stop_reason}; lowest val loss {best.val_loss:.2f} "
                     f"(accuracy {100 * best.val_accuracy:.1f} %) in the epoch at lr {best.lr:.2g}")
    return "\n".join(lines)


def epoch_table(history: pd.DataFrame) -> str:
    """Return an epoch-wise test's history as text: epoch, LR, training loss, val loss and accuracy."""
    return pd.DataFrame({"epoch": history.iteration, "lr": history.lr.map(lambda v: f"{v:.2g}"),
                         "train loss": history.loss.map(lambda v: f"{v:.2f}"),
                         "val loss": history.val_loss.map(lambda v: f"{v:.2f}"),
                         "val acc %": (100 * history.val_accuracy).map(lambda v: f"{v:.1f}")}).to_string(index=False)


def plot_epoch_tests(tests: dict, title: str):
    """Draw each epoch-wise test's training and validation loss against the epoch's LR; return the axes."""
    import matplotlib.pyplot as plt

    ax = plt.subplots(figsize=(7, 3.6))[1]
    for name, test in tests.items():
        h, ls = test.history, _line("C0", name)["linestyle"]
        ax.plot(h.lr, h.loss, color="C0", ls=ls, marker=".", label=f"{name}: training loss (epoch mean)")
        ax.plot(h.lr, h.val_loss, color="C1", ls=ls, marker=".", label=f"{name}: validation loss")
    ax.set(xscale="log", xlabel="learning rate of the epoch", ylabel="loss", title=title)
    ax.legend(fontsize=7)
    return ax


def suggestions_by_draw(lab, draws, ramps: dict) -> pd.DataFrame:
    """Return one row per framework, draw, ramp and rule: the finite suggestion of that range test.

    ``lab`` is a :class:`lrlab.digits_mlp.DigitsMLP`; each test starts from the
    initial weights of its draw and orders its batches by the draw;
    ``ramps`` maps a ramp's name to the test's arguments.
    """
    found = []
    for name, b in lab.backends.items():
        for draw in draws:
            for ramp, ramp_args in ramps.items():
                test = lab.range_test(b, draw=draw, **ramp_args)
                found += [{"framework": name, "draw": draw, "ramp": ramp, "rule": rule, "lr": lr}
                          for rule, lr in test.suggestions.items() if np.isfinite(lr)]
    return pd.DataFrame(found)


def excess_over_grid(lab, found: pd.DataFrame, grid_lrs, draws, epochs: int, failed_above: float) -> pd.DataFrame:
    """Return ``found`` with ``excess``: final val loss at the suggestion / the best grid rate's of its draw − 1.

    Per framework one ``fit_many`` call trains the grid on every draw and every
    suggestion of ``found`` from its draw's initial weights. A diverged run
    counts as ``inf`` and every loss is capped at ``failed_above`` (a run near
    breakdown ends wherever the CPU's last bits send it: :mod:`lrlab.report`).
    """
    trained = []
    for name, b in lab.backends.items():
        mine = found[found.framework == name]
        grid = [{"lr": float(lr), "init_seed": draw} for draw in draws for lr in grid_lrs]
        configs = grid + [{"lr": float(r.lr), "init_seed": int(r.draw)} for r in mine.itertuples()]
        last = final_rows(lab.fit_many(b, configs, epochs)).sort_index().val_loss.fillna(np.inf).to_numpy()
        last = np.minimum(last, failed_above)
        best = dict(zip(draws, last[:len(grid)].reshape(len(draws), -1).min(axis=1)))
        trained.append(mine.assign(excess=last[len(grid):] / mine.draw.map(best).to_numpy() - 1))
    return pd.concat(trained)
