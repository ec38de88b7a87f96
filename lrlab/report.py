"""Numbers printed so that another machine prints them too.

A stored output must come out of the code again on a CPU with other vector
kernels (:mod:`lrlab.kernels`). In float64 (lrlab's default) a run that trains
well ends the same to about nine digits under the native and the emulated
kernels; what moves is of three kinds, and each has a printing rule here:

* **rounding-level gaps** (framework against the rule by hand, 1e-16 in
  float64): :func:`gap_text` prints a gap below its floor as ``< floor``;
* **runs near breakdown**: a learning rate at the edge of stability amplifies
  the last bit into a different end (measured: a validation loss of 1.28 under
  one setting and 2.34 under the other). :func:`loss_text` prints a loss above
  the ``failed_above`` cut, where only such runs end, as ``> cut`` and a
  diverged one as ``diverged``;
* **glued numbers**: myst-nb's ``glue`` stores a value's full ``repr``, which
  nbval compares; :func:`glue` stores floats at :data:`GLUE_DIGITS` significant
  digits, far beyond what the prose shows and far above float64's rounding;
* **counts of chaotic runs** (which basin a bouncing run ends in):
  :func:`share_text` reports a share as one of three bands, not a percentage;
* **counts of sign changes**: once a weight reaches its minimum to rounding
  level, its error changes sign at random; :func:`sign_changes` counts only the
  changes of an error larger than a floor, the oscillation the text is about.
"""

from __future__ import annotations

import math

import numpy as np

from lrlab.params import check_number

__all__ = ["GLUE_DIGITS", "gap_text", "glue", "loss_text", "share_text", "sign_changes"]

#: significant digits a glued float keeps (the prose shows at most this many)
GLUE_DIGITS = 8


def gap_text(value: float, floor: float = 1e-9) -> str:
    """Return ``value`` with one significant digit, or ``"< floor"`` when it is below ``floor``.

    >>> gap_text(3.2e-16), gap_text(0.0612), gap_text(0.0)
    ('< 1e-09', '6e-02', '< 1e-09')
    """
    check_number("floor", floor, low=0, low_open=True)
    return f"< {floor:.0e}" if abs(value) < floor else f"{value:.0e}"


def loss_text(value: float, failed_above: float, digits: int = 2) -> str:
    """Return a final loss with ``digits`` decimals; ``"> cut"`` above ``failed_above``, ``"diverged"`` if not finite.

    The cut separates runs that trained from runs near breakdown, whose end
    depends on the CPU's rounding; choose it between the two groups, as far from
    both as the data allow, and state it in the text.

    >>> loss_text(0.1234, 1.0), loss_text(2.34, 1.0), loss_text(float("inf"), 1.0)
    ('0.12', '> 1', 'diverged')
    """
    check_number("failed_above", failed_above, low=0, low_open=True)
    if not math.isfinite(value):
        return "diverged"
    return f"> {failed_above:g}" if value > failed_above else f"{value:.{digits}f}"


def sign_changes(error, floor: float) -> np.ndarray:
    """Return, per column of ``error`` (steps × weights), how often it changes sign while larger than ``floor``.

    A change counts when both neighbouring errors exceed ``floor`` in size; the
    sign flips of an error at rounding level (a weight already at its minimum)
    do not count.

    >>> sign_changes(np.array([[1.0], [-0.5], [0.2], [1e-12], [-1e-12]]), 1e-6)
    array([2])
    """
    check_number("floor", floor, low=0, low_open=True)
    error = np.asarray(error, dtype=float)
    error = error[:, None] if error.ndim == 1 else error
    big = np.abs(error) > floor
    flips = (np.sign(error[1:]) != np.sign(error[:-1])) & big[1:] & big[:-1]
    return flips.sum(axis=0)


def share_text(fraction: float, low: float = 0.1, high: float = 0.9) -> str:
    """Return a share as a band: ``"under 10 %"``, ``"10-90 %"`` or ``"over 90 %"`` (for the default cuts).

    For counts of runs whose end is chaotic (one run more or less lands elsewhere
    on another CPU), the band is what survives; state the cuts before the numbers.

    >>> share_text(0.0), share_text(1 / 45), share_text(0.5), share_text(1.0)
    ('under 10 %', 'under 10 %', '10-90 %', 'over 90 %')
    """
    check_number("fraction", fraction, low=0, high=1)
    if fraction < low:
        return f"under {low:.0%}".replace("%", " %")
    if fraction > high:
        return f"over {high:.0%}".replace("%", " %")
    return f"{low:.0%}-{high:.0%}".replace("%", "", 1).replace("%", " %")


def glue(name: str, value, display: bool = False):
    """Glue ``value`` for the prose (myst-nb's ``glue``), floats rounded to :data:`GLUE_DIGITS` significant digits.

    myst-nb stores the value's ``repr`` as the output's text, and strict nbval
    compares it: a float glued in full shows its last bits, which another CPU's
    kernels change (measured: ``0.005244573411663331`` against ``…3206``). The
    prose formats the value with far fewer digits (``{glue:text}`key:.3f```), so
    rounding it first loses nothing a reader sees. numpy scalars become Python
    numbers (whose ``repr`` has no ``np.float64(…)``); everything else is passed on.

    >>> _stored(np.float64(0.005244573411663331)), _stored(np.int64(3)), _stored("x")
    (0.0052445734, 3, 'x')
    """
    from myst_nb import glue as _glue

    return _glue(name, _stored(value), display=display)


def _stored(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.{GLUE_DIGITS}g}") if math.isfinite(value) else float(value)
    return value
