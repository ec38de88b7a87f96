"""E004-4's golden output: print a descent trace the way the seed did, and compare it with the published table.

The seed printed every value with C's ``%g`` (six significant digits). A value
*agrees* when it is within one unit of the published value's last printed
digit; it *matches* when the printed strings are identical.
"""

from __future__ import annotations

import numpy as np

from lrlab.data import E004_4_FINAL_W, E004_4_PUBLISHED

__all__ = ["E004_4_FINAL_W", "TORCH_KERNELS", "compare_with_published", "final_w_text", "format_rows",
           "last_digit_unit", "reference_trace", "ulps_apart"]

#: PyTorch's CPU kernel settings chapter 1 runs E004-4 under (``ATEN_CPU_CAPABILITY`` values):
#: the vectorised AVX2 kernels most x86 machines use, and the scalar kernels of a CPU without AVX2
TORCH_KERNELS = {"torch (AVX2 kernels)": "avx2", "torch (scalar kernels)": "default"}

COLUMNS = ("lr_next", "loss", "w")


def format_rows(trace) -> list[str]:
    """Return the trace's rows as ``step:%d,learning_rate:%g,loss:%g,w:%g`` lines (the LR printed is ``lr_next``)."""
    return [f"step:{int(r.step)},learning_rate:{r.lr_next:g},loss:{r.loss:g},w:{r.w:g}"
            for r in trace.itertuples()]


def last_digit_unit(printed: str) -> float:
    """Return the value of one unit in the last printed digit of ``printed`` (``"2.43633e-05"`` → 1e-10)."""
    mantissa, _, exponent = printed.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def compare_with_published(trace):
    """Return a per-value comparison of ``trace`` with the seed's 40 published rows.

    One row per (step, quantity) with the printed and published strings, whether
    they match exactly, and the difference in units of the last published digit.
    """
    import pandas as pd

    rows = []
    for r, published in zip(trace.itertuples(), E004_4_PUBLISHED):
        for column, expected in zip(COLUMNS, published[1:]):
            printed = f"{getattr(r, column):g}"
            units = abs(float(printed) - float(expected)) / last_digit_unit(expected)
            rows.append({"step": int(r.step), "quantity": "lr" if column == "lr_next" else column,
                         "printed": printed, "published": expected,
                         "exact": printed == expected, "units_off": round(units, 6)})
    return pd.DataFrame(rows)


def ulps_apart(a, b) -> int:
    """Return the largest distance between float32 sequences ``a`` and ``b``, in units in the last place.

    One ulp is the spacing of float32 numbers at ``b``'s value; 0 means bit for bit.

    >>> ulps_apart([np.float32(1.0)], [np.nextafter(np.float32(1.0), np.float32(2.0))])
    1
    """
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.size == 0:
        return 0
    return int(np.max(np.abs(a.astype(np.float64) - b) / np.spacing(np.abs(b))).round())


def final_w_text(trace) -> str:
    """Return the final weight as the seed printed it (``%.7f``)."""
    return f"{float(trace.w.iloc[-1]):.7f}"


def reference_trace(w0, lr, steps, a=1.0, c=-1.0, dtype=np.float32, fused=False):
    """Return the numpy trace of ``steps`` gradient steps on ``a(w − c)²`` — the hand-written E000-1 rule.

    ``lr`` is a float or an lrlab schedule (``lr(k)`` is the LR of update k).
    Every quantity is computed in ``dtype``; columns as in the backends' ``descend``.

    ``fused`` chooses how the update ``w − η·g`` is rounded: ``False`` rounds the
    product ``η·g`` to ``dtype`` and then the difference (a multiply, then an
    add: PyTorch's scalar CPU kernels, ``ATEN_CPU_CAPABILITY=default``);
    ``True`` rounds once, as a fused multiply-add does (PyTorch's AVX2 and
    AVX-512 kernels). In float32 the two differ in the last bit of some steps,
    which is visible in E004-4's ``%g`` table:

    >>> from lrlab import schedules
    >>> s = schedules.make("exponential", initial_lr=0.1, decay_steps=1, decay_rate=0.99, staircase=True)
    >>> [int(compare_with_published(reference_trace(5.0, s, 40, fused=f)).exact.sum()) for f in (True, False)]
    [114, 88]
    """
    import pandas as pd

    schedule = lr if callable(lr) else (lambda k: lr)
    w = dtype(w0)
    rows = []
    for k in range(steps):
        eta = dtype(schedule(k))
        grad = dtype(2 * a) * (w - dtype(c))
        w = dtype(np.float64(w) - np.float64(eta) * np.float64(grad)) if fused else dtype(w - eta * grad)
        rows.append({"step": k, "lr_used": eta, "lr_next": dtype(schedule(k + 1)),
                     "loss": dtype(dtype(a) * (w - dtype(c)) ** 2), "w": w})
    return pd.DataFrame(rows, columns=["step", "lr_used", "lr_next", "loss", "w"])

