"""E004-4's golden output: print a descent trace the way the seed did, and compare it with the published table.

The seed printed every value with C's ``%g`` (six significant digits). A value
*agrees* when it is within one unit of the published value's last printed
digit; it *matches* when the printed strings are identical.
"""

from __future__ import annotations

import numpy as np

from lrlab.data import E004_4_FINAL_W, E004_4_PUBLISHED

__all__ = ["E004_4_FINAL_W", "RECORD_KEYS", "TORCH_KERNELS", "compare_with_published", "final_w_text",
           "float64_gaps", "format_rows", "framework_gap", "last_digit_unit", "plot_descent", "published_summary",
           "reference_trace", "ulps_apart", "update_rule_check"]

#: PyTorch's CPU kernel settings chapter 1 runs E004-4 under (``ATEN_CPU_CAPABILITY`` values):
#: the vectorised AVX2 kernels most x86 machines use, and the scalar kernels of a CPU without AVX2
TORCH_KERNELS = {"torch (AVX2 kernels)": "avx2", "torch (scalar kernels)": "default"}

#: the key each of chapter 1's tables is recorded and glued under (``e004_4_<key>``)
RECORD_KEYS = {"tf": "tf", "torch (AVX2 kernels)": "torch", "torch (scalar kernels)": "torch_scalar"}

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



def update_rule_check(traces: dict, w0, lr, steps: int) -> tuple[dict, list[str]]:
    """Return ``({framework: ulps}, lines)``: each trace's distance from the rule ``w ← w − η·g`` written by hand.

    The distance is :func:`ulps_apart` of the framework's weights from the
    *closer* of the two loops by hand (:func:`reference_trace` with one rounding
    per step, ``fused=True``, or two). ``lines`` say, per framework, where update
    0 took ``w`` and with which rate, beside the loop by hand, and the distance.
    """
    by_hand = {fused: reference_trace(w0, lr, steps, fused=fused) for fused in (True, False)}
    ulps = {name: min(ulps_apart(trace.w, hand.w) for hand in by_hand.values()) for name, trace in traces.items()}
    lines = [f"{name:>5}: update 0 took w from {w0:g} to {trace.w[0]:g} with lr {trace.lr_used[0]:g}; by hand: "
             f"{by_hand[False].w[0]:g}. Over {steps} steps: {ulps[name]} ulp(s) from the closer loop by hand"
             for name, trace in traces.items()]
    return ulps, lines


def framework_gap(traces: dict) -> float:
    """Return the largest ``|w_tf − w_torch|`` over the steps of two frameworks' traces."""
    return float(np.abs(traces["tf"].w.to_numpy(float) - traces["torch"].w.to_numpy(float)).max())


def published_summary(trace) -> tuple[dict, str]:
    """Return ``(record, text)``: how ``trace`` prints beside the seed's published table.

    The comparison is :func:`compare_with_published`.

    ``record`` holds ``exact`` (values printed exactly as published), ``of``
    (values compared), ``max_units_off`` (the largest difference in units of the
    last published digit) and ``final_w`` (:func:`final_w_text`). ``text`` says
    the same in a sentence and lists the values that print differently.
    """
    comparison = compare_with_published(trace)
    final_w = final_w_text(trace)
    record = {"exact": int(comparison.exact.sum()), "of": len(comparison),
              "max_units_off": float(comparison.units_off.max()), "final_w": final_w}
    text = (f"{comparison.exact.sum()} of {len(comparison)} values print exactly as published; "
            f"largest difference {comparison.units_off.max():g} unit(s) of the last digit; "
            f"final w {final_w} ({'exact' if final_w == E004_4_FINAL_W else 'differs from ' + E004_4_FINAL_W})\n"
            + comparison.loc[~comparison.exact, ["step", "quantity", "printed", "published"]].to_string(index=False))
    return record, text


def float64_gaps(trace, w0, lr, steps: int) -> dict:
    """Return the largest relative gap of ``trace``'s ``lr_next`` and ``w`` to a float64 :func:`reference_trace`.

    ``|x − x_ref| / max(|x_ref|, 1e-30)``, the comparison chapter 1 makes when its
    parameters are not the seed's and there is no published table.
    """
    exact = reference_trace(w0, lr, steps, dtype=np.float64)
    return {col: float(np.max(np.abs(trace[col].to_numpy(np.float64) - exact[col])
                              / np.maximum(np.abs(exact[col]), 1e-30))) for col in ("lr_next", "w")}


def plot_descent(traces: dict, minimum: float, published: bool):
    """Draw ``w`` after each step of each framework's trace (and, if ``published``, the seed's points); return the axes.

    The frameworks are drawn in :data:`lrlab.plots.FRAMEWORK_STYLE`, the published
    points as open black squares around them; a grey line marks the minimum.
    """
    import matplotlib.pyplot as plt

    from lrlab.plots import overlay

    ax = plt.subplots(figsize=(7, 3.6), layout="constrained")[1]
    overlay(traces, "step", "w", ax=ax, label="{framework}: w after each step", markersize=3)
    if published:
        ax.plot(range(40), [float(r[3]) for r in E004_4_PUBLISHED], "ks", ms=7, mfc="none", zorder=3,
                label="seed 004, published")
    ax.axhline(minimum, color="grey", lw=0.8)
    ax.set(xlabel="step", ylabel="w", title="E004-4: gradient descent on (w + 1)²")
    ax.legend()
    return ax
