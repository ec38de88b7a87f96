"""What the two training backends share, free of any framework.

:mod:`lrlab.tf` and :mod:`lrlab.torch` make the framework calls; everything
that decides *what* those calls compute lives here, once:

* argument checking and the result table of :func:`descend` (E000-1, E004-1, E004-4);
* telling a float learning rate from an lrlab schedule.

Nothing here imports TensorFlow or PyTorch.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from lrlab.params import ParameterError, check_int, check_number

__all__ = [
    "DESCEND_COLUMNS",
    "check_descend",
    "check_lr",
    "descend_table",
    "is_schedule",
]

#: the columns of :func:`lrlab.tf.descend` / :func:`lrlab.torch.descend`, in order
DESCEND_COLUMNS = ("step", "lr_used", "lr_next", "loss", "w")


def is_schedule(lr) -> bool:
    """Return True when ``lr`` is an lrlab schedule (it converts to both frameworks)."""
    return callable(lr) and hasattr(lr, "to_keras") and hasattr(lr, "to_torch")


def check_lr(lr, name: str = "lr"):
    """Return ``lr`` checked: a finite float >= 0, or an lrlab schedule (returned as is)."""
    if is_schedule(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise ParameterError(f"{name} = {lr!r} is not allowed; expected a finite number >= 0 "
                             "or an lrlab schedule (lrlab.schedules.make(...))")
    return check_number(name, lr, low=0)


def check_descend(loss, w0, lr, steps):
    """Return ``(loss, w0, lr, steps)`` checked for :func:`descend`."""
    if not callable(loss):
        raise ParameterError(f"loss = {loss!r} is not allowed; expected a function of the weight")
    return loss, check_number("w0", w0), check_lr(lr), check_int("steps", steps, low=0)


def descend_table(rows) -> pd.DataFrame:
    """Return the :func:`descend` rows as a DataFrame: ``step`` int, the rest float32.

    Each row is ``(step, lr_used, lr_next, loss, w)``; the values stay float32
    so that ``'%g' % value`` prints what a float32 TF1 program printed.
    """
    rows = list(rows)
    table = pd.DataFrame({
        "step": np.array([r[0] for r in rows], dtype=np.int64),
        **{name: np.array([r[i] for r in rows], dtype=np.float32)
           for i, name in enumerate(DESCEND_COLUMNS[1:], start=1)},
    })
    return table
