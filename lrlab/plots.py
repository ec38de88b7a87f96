"""The book's figures: one style, whatever the reader's environment.

:func:`setup` is the first thing every chapter does with matplotlib. It makes a
chapter draw the same figures on every machine and for every caller: a reader
who exports ``MPLBACKEND=Agg`` (usual on servers), keeps a ``matplotlibrc`` with
another figure size or style, or configures IPython's inline backend to emit SVG
would otherwise get other outputs, or none (strict nbval then fails). The
emulated setting of :mod:`lrlab.kernels` plays such a caller in ``make test``.
"""

from __future__ import annotations

__all__ = ["BOOK_STYLE", "setup"]

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
