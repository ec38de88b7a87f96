"""Validation of notebook parameters and function arguments.

Every notebook's first code cell checks its papermill parameters with these
helpers. A bad value raises :class:`ParameterError` (a ``ValueError``) whose
message is one line naming the parameter, the value and what is allowed::

    ParameterError: initial_lr = -0.1 is not allowed; expected a number > 0

Inside IPython the error is shown as that one line, without a traceback, so a
papermill rerun with a bad ``-p`` value stops with a readable reason.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "FRAMEWORKS",
    "ParameterError",
    "check_bool",
    "check_choice",
    "check_frameworks",
    "check_int",
    "check_number",
]

#: the frameworks a notebook can run, in the order the book shows them
FRAMEWORKS = ("tf", "torch")


class ParameterError(ValueError):
    """A parameter has a value outside what is allowed."""


def _fail(name: str, value, allowed: str):
    raise ParameterError(f"{name} = {value!r} is not allowed; expected {allowed}")


def _bounds_text(low, high, low_open, high_open) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


def check_number(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a float after checking it is a finite real number within bounds."""
    allowed = "a finite number" + (f" {_bounds_text(low, high, low_open, high_open)}" if (low, high) != (None, None) else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        _fail(name, value, allowed)
    if low is not None and (value < low or (low_open and value == low)):
        _fail(name, value, allowed)
    if high is not None and (value > high or (high_open and value == high)):
        _fail(name, value, allowed)
    return float(value)


def check_int(name: str, value, *, low=None, high=None) -> int:
    """Return ``value`` as an int after checking it is a whole number within ``[low, high]``."""
    allowed = "a whole number" + (f" {_bounds_text(low, high, False, False)}" if (low, high) != (None, None) else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, value, allowed)
    if (low is not None and value < low) or (high is not None and value > high):
        _fail(name, value, allowed)
    return int(value)


def check_bool(name: str, value) -> bool:
    """Return ``value`` after checking it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        _fail(name, value, "True or False")
    return value


def check_choice(name: str, value, allowed) -> object:
    """Return ``value`` after checking it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        _fail(name, value, "one of " + ", ".join(repr(a) for a in allowed))
    return value


def check_frameworks(value, name: str = "frameworks") -> tuple[str, ...]:
    """Return the frameworks named by ``value`` as a tuple in book order.

    ``value`` is a comma-separated string (``"tf,torch"``, ``"torch"``), the
    form papermill's ``-p frameworks torch`` passes, or an iterable of names.
    """
    names = value.split(",") if isinstance(value, str) else list(value) if value is not None else []
    names = [str(n).strip() for n in names if str(n).strip()]
    allowed = "a comma-separated subset of 'tf', 'torch' (at least one)"
    if not names or any(n not in FRAMEWORKS for n in names):
        _fail(name, value, allowed)
    return tuple(f for f in FRAMEWORKS if f in names)


def _show_one_line(shell, etype, evalue, tb, tb_offset=None):
    """IPython handler: show a ParameterError as its one-line message."""
    line = f"{etype.__name__}: {evalue}"
    shell._showtraceback(etype, evalue, [line])
    return [line]


def _install_ipython_handler() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is part of the book's environment
        return
    shell = get_ipython()
    if shell is not None and ParameterError not in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((ParameterError,), _show_one_line)


_install_ipython_handler()
