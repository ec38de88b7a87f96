"""The book's figures: one style, whatever the reader's environment.

:func:`setup` is the first thing every chapter does with matplotlib. It makes a
chapter draw the same figures on every machine and for every caller: a reader
who exports ``MPLBACKEND=Agg`` (usual on servers), keeps a ``matplotlibrc`` with
another figure size or style, or configures IPython's inline backend to emit SVG
would otherwise get other outputs, or none (strict nbval then fails). The
emulated setting of :mod:`lrlab.kernels` plays such a caller in ``make test``.

The other functions draw the figures that recur across the chapters, so a
chapter's plotting cell says *what* it shows and lrlab says *how*:

* :func:`heatmap`: a table of losses (e.g. learning rate × batch size) with the
  numbers written in the cells, the colour bar in loss units on a log scale,
  and the best cell of each column framed;
* :func:`loss_vs_lr`: loss against learning rate on a log axis, with the band
  of good learning rates shaded (the range test, C004-1, C000-1);
* :func:`overlay`: one quantity for both frameworks on the same axes, TensorFlow
  solid with circles and PyTorch dashed with crosses, so that equal curves stay
  visibly two.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["BOOK_STYLE", "FRAMEWORK_STYLE", "heatmap", "loss_vs_lr", "overlay", "setup"]

#: rcParams the book sets on top of matplotlib's own defaults (the inline backend's resolution)
BOOK_STYLE = {"figure.dpi": 100.0}


def setup() -> None:
    """Draw inline as PNG with matplotlib's defaults plus :data:`BOOK_STYLE`, ignoring the caller's settings.

    Inside an IPython kernel the backend becomes the inline one even when
    ``MPLBACKEND`` names another, and figures are sent as PNG only. Outside a
    kernel (a script, a test) the backend is left alone. The caller's
    ``matplotlibrc`` and style are replaced by :func:`matplotlib.rcdefaults`;
    numpy's print options go back to numpy's defaults.

    >>> setup()
    >>> import matplotlib
    >>> matplotlib.rcParams["figure.dpi"]
    100.0
    """
    import matplotlib
    import numpy as np

    shell = _kernel_shell()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    matplotlib.rcdefaults()
    matplotlib.rcParams.update(BOOK_STYLE)
    np.set_printoptions(edgeitems=3, infstr="inf", linewidth=75, nanstr="nan", precision=8,
                        suppress=False, threshold=1000, formatter=None, sign="-", floatmode="maxprec",
                        legacy=False)


def _kernel_shell():
    """Return the running IPython kernel's shell, or None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is part of the book's environment
        return None
    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "kernel") else None


#: how each framework is drawn wherever both share an axis (:func:`overlay`)
FRAMEWORK_STYLE = {
    "tf": {"color": "C1", "linestyle": "-", "marker": "o", "markersize": 5, "markerfacecolor": "none"},
    "torch": {"color": "C0", "linestyle": "--", "marker": "x", "markersize": 5},
}


def heatmap(table, *, ax=None, failed_above: float = math.inf, cap: float | None = None, best: str | None = "min",
            label: str = "val loss (nats)", digits: int = 2, xlabel: str | None = None, ylabel: str | None = None,
            title: str | None = None, fontsize: float = 7.0, colorbar: bool = True):
    """Draw a table of losses as an annotated heat map and return its image.

    ``table`` is a :class:`pandas.DataFrame` (rows drawn bottom to top, columns
    left to right, e.g. from :func:`lrlab.sensitivity.heatmap_table`). Colours
    follow the loss on a log scale, from the smallest finite value to ``cap``
    (default: the largest finite value); the colour bar is labelled in loss
    units. Each cell carries its number, written white on dark colours and
    black on light ones; a cell above ``failed_above`` reads ``"> failed_above"``
    (a run near breakdown, whose exact end depends on the CPU:
    :func:`lrlab.report.loss_text`), a non-finite cell ``"div."`` on grey.
    ``best="min"`` frames the smallest value of each column in red.

    >>> import pandas as pd
    >>> table = pd.DataFrame([[0.3, 0.2], [0.1, float("inf")]], index=[0.1, 1.0], columns=[4, 16])
    >>> image = heatmap(table, failed_above=1.0)
    >>> [t.get_text() for t in image.axes.texts]
    ['0.30', '0.20', '0.10', 'div.']
    >>> [t.get_text() for t in heatmap(table * 10, digits=1).axes.texts]  # no cut: every number as it is
    ['3.0', '2.0', '1.0', 'div.']
    """
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from .report import loss_text

    if best not in (None, "min"):
        raise ValueError(f"best must be 'min' or None, got {best!r}")
    values = np.asarray(table.to_numpy(), dtype=float)
    finite = values[np.isfinite(values) & (values > 0)]
    if ax is None:
        ax = plt.subplots(figsize=(1.5 + 0.9 * values.shape[1], 1.2 + 0.35 * values.shape[0]), layout="constrained")[1]
    low = float(finite.min()) if finite.size else 1e-3
    high = max(float(cap if cap is not None else (finite.max() if finite.size else 1.0)), low * 1.01)
    norm = mcolors.LogNorm(vmin=low, vmax=high, clip=True)
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="0.6")
    image = ax.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap=cmap, norm=norm)
    for (i, j), value in np.ndenumerate(values):
        if not np.isfinite(value):
            text = "div."
        elif math.isfinite(failed_above):
            text = loss_text(value, failed_above, digits)
        else:
            text = f"{value:.{digits}f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=_ink(cmap, norm, value))
    if best == "min":
        for j in range(values.shape[1]):
            column = np.where(np.isfinite(values[:, j]), values[:, j], np.inf)
            if np.isfinite(column).any():
                ax.add_patch(plt.Rectangle((j - 0.5, int(np.argmin(column)) - 0.5), 1, 1, fill=False, ec="red", lw=2))
    ax.set_xticks(range(values.shape[1]), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in table.columns])
    ax.set_yticks(range(values.shape[0]), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in table.index])
    ax.set(xlabel=xlabel if xlabel is not None else table.columns.name,
           ylabel=ylabel if ylabel is not None else table.index.name, title=title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=f"{label}, log scale" + (f", capped at {high:g}" if cap else ""))
    return image


def _ink(cmap, norm, value: float) -> str:
    """Return "white" on a dark cell and "black" on a light one (relative luminance of the cell's colour)."""
    if not np.isfinite(value):
        return "black"
    r, g, b, _ = cmap(norm(max(value, norm.vmin)))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"


def loss_vs_lr(curves: Mapping, *, ax=None, band: Sequence[float] | None = None, cap: float | None = None,
               ylabel: str = "loss (nats)", title: str | None = None, band_label: str = "good learning rates",
               **line):
    """Plot loss against learning rate (log axis) for each curve, with the band of good rates shaded.

    ``curves`` maps a label to ``(lrs, losses)``; a label that names a
    framework (``"tf"``, ``"torch"``, or one starting with it and a space) is
    drawn in that framework's :data:`FRAMEWORK_STYLE`. Losses above ``cap``
    (and non-finite ones) are drawn at ``cap`` so a breakdown stays on the axes.
    ``band`` is ``(low, high)``, e.g. from :func:`lrlab.lr_bands.band_edges`.
    Extra keyword arguments go to every curve's :meth:`matplotlib.axes.Axes.plot`
    (e.g. ``marker=""`` for a curve of many points).

    >>> ax = loss_vs_lr({"tf": ([0.01, 0.1, 1.0], [0.5, 0.2, 3.0])}, band=(0.03, 0.5), cap=2.5)
    >>> ax.get_xscale(), ax.get_legend_handles_labels()[1]
    ('log', ['good learning rates', 'tf'])
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(7, 3.6), layout="constrained")[1]
    if band is not None:
        low, high = (float(v) for v in band)
        if not 0 < low <= high:
            raise ValueError(f"band must be (low, high) with 0 < low <= high, got {band!r}")
        ax.axvspan(low, high, color="0.85", label=band_label)
    for label, (lrs, losses) in curves.items():
        y = np.asarray(losses, dtype=float)
        if cap is not None:
            y = np.where(np.isfinite(y), np.minimum(y, cap), cap)
        ax.plot(np.asarray(lrs, dtype=float), y, label=str(label), **{**_style(label), **line})
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel=ylabel + (f" (capped at {cap:g})" if cap is not None else ""), title=title)
    ax.legend(fontsize=8)
    return ax


def overlay(frames: Mapping, x: str, y: str, *, ax=None, yerr: str | None = None, logx: bool = False,
            logy: bool = False, label: str = "{framework}", **kwargs):
    """Plot column ``y`` against ``x`` of each framework's table on one axes, in :data:`FRAMEWORK_STYLE`.

    ``frames`` maps a framework name to a :class:`pandas.DataFrame`; ``yerr``
    names a column of error bars (e.g. a seed standard deviation); ``label`` is
    formatted with the framework's name. Extra keyword arguments go to
    :meth:`matplotlib.axes.Axes.errorbar`.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"lr": [0.1, 1.0], "loss": [0.3, 0.2]})
    >>> ax = overlay({"tf": frame, "torch": frame}, "lr", "loss", logx=True)
    >>> ax.get_legend_handles_labels()[1]
    ['tf', 'torch']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(7, 3.6), layout="constrained")[1]
    for framework, frame in frames.items():
        ax.errorbar(frame[x], frame[y], yerr=None if yerr is None else frame[yerr], capsize=3,
                    label=label.format(framework=framework), **{**_style(framework), **kwargs})
    ax.set(xscale="log" if logx else "linear", yscale="log" if logy else "linear", xlabel=x, ylabel=y)
    ax.legend(fontsize=8)
    return ax


def _style(label) -> dict:
    """Return the framework style a curve label names (``"tf"``, ``"torch ..."``), else no style."""
    head = str(label).split(" ", 1)[0].rstrip(":,")
    return dict(FRAMEWORK_STYLE.get(head, {}))
