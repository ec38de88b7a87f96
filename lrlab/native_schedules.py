"""What the frameworks' native schedule objects and plateau callbacks do, read update by update (chapter 2).

* :func:`periodicity` — does a cosine schedule come back to the top of its range
  (C001-1b)? Counted with :func:`lrlab.lr_evidence.returns_to_top` on the rates
  Keras's schedule or PyTorch's scheduler gives, with a check that they stay in
  ``[low, high]``;
* :func:`cut_epochs` — the epochs after which a plateau rule lowered the rate;
* :func:`callback_lrs` — the rates a backend's ``ReduceLROnPlateau`` callback
  sets for a given metric sequence, without a training loop;
* :func:`plot_plateau_rules` — one metric sequence and the rates several plateau
  rules set from it (E002-5);
* :func:`judge_c001_1` — one framework's verdicts on C001-1a (the three families
  are native and use the formula's rates) and C001-1b (cosine is periodic).

>>> cut_epochs([0.01, 0.01, 0.005, 0.005, 0.0025])
[2, 4]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.lr_evidence import at_most, conditions, keras_lrs, returns_to_top, torch_lrs
from lrlab.report import gap_text
from lrlab.verdicts import Verdict

__all__ = ["callback_lrs", "cut_epochs", "judge_c001_1", "periodicity", "plot_plateau_rules"]


def periodicity(objects: dict, updates: int, low: float, high: float) -> tuple[dict, pd.DataFrame]:
    """Return ``(returns, table)`` for native cosine objects run over ``updates`` updates.

    ``objects`` maps a framework to ``{kind: (label, obj)}``: for ``"tf"`` a Keras
    ``LearningRateSchedule``, for ``"torch"`` a function of an optimizer that
    makes the scheduler (run on ``SGD(lr=high)``). ``returns[framework, kind]``
    is the number of returns to the top (within 1 % of the first rate) when
    every rate lies in ``[low, high]`` (to a relative ``1e-6``), else 0.
    """
    returns, rows = {}, []
    for name, kinds in objects.items():
        for kind, (label, obj) in kinds.items():
            lrs = keras_lrs(obj, updates) if name == "tf" else torch_lrs(obj, updates, high)
            inside = bool(lrs.min() >= low * (1 - 1e-6) and lrs.max() <= high * (1 + 1e-6))
            returns[name, kind] = returns_to_top(lrs) if inside else 0
            rows.append({"framework": name, "kind": kind, "object": label, "returns to the top": returns[name, kind],
                         "lowest": f"{lrs.min():.3g}", "highest": f"{lrs.max():.3g}",
                         f"within [{low:g}, {high:g}]": inside})
    return returns, pd.DataFrame(rows)


def cut_epochs(lrs, lr: float = 0.01) -> list[int]:
    """Return the epochs after which the LR went down, from ``lr`` before the first.

    A cut must exceed float32 rounding (a relative ``1e-6``): Keras keeps ``0.01``
    in float32.
    """
    lrs = np.asarray(lrs)
    return [int(e) for e in np.flatnonzero(lrs < np.concatenate([[lr], lrs[:-1]]) * (1 - 1e-6))]


class _LoopStub:
    """All a plateau callback uses of a backend's training loop: the LR, readable and settable."""

    lr_settable = True

    def __init__(self, lr: float):
        self.lr = lr


def callback_lrs(backend, metric, lr: float, **kwargs) -> np.ndarray:
    """Return the rates ``backend.ReduceLROnPlateau("val_loss", **kwargs)`` sets after each value of ``metric``.

    A callback sees the training loop only through the LR it reads and sets, so
    the sequence is handed to it directly, one ``on_epoch_end`` per value.
    """
    callback, loop = backend.ReduceLROnPlateau("val_loss", **kwargs), _LoopStub(lr)
    callback.on_train_begin(loop, ["val_loss"])
    for value in metric:
        callback.on_epoch_end(loop, {"val_loss": float(value)})
    return np.array(callback.lrs)


def plot_plateau_rules(metric, rules: dict):
    """Draw ``metric`` per epoch (top) and the LR each of ``rules`` (``{label: lrs}``) set after each epoch (bottom)."""
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.2), sharex=True)
    top.plot(metric, "k.-", lw=0.8)
    top.set(ylabel="validation loss", title="one metric sequence, three plateau rules")
    for i, (label, lrs) in enumerate(rules.items()):
        bottom.step(np.arange(len(metric)), lrs, where="post", color=f"C{i}", lw=2.5 - i * 0.7, label=label)
    bottom.set(xlabel="epoch", ylabel="LR set after the epoch", yscale="log")
    bottom.legend(fontsize=7)
    fig.tight_layout()
    return fig


def judge_c001_1(name: str, *, native: bool, gap: float, returns: dict, labels: dict, scope_1a: str,
                 scope_1b: str) -> list[Verdict]:
    """Return framework ``name``'s verdicts on C001-1a and C001-1b (deterministic, regime "schedules").

    C001-1a: every family converts to the framework's own classes (``native``)
    and ``gap`` (the largest ``|LR used − formula| / peak``) is *at most*
    ``1e-6`` (:func:`lrlab.lr_evidence.at_most`). C001-1b: at least 2 returns to
    the top (``returns[name, kind]`` of :func:`periodicity`), judged "with
    restarts" and "without restarts" (:func:`lrlab.lr_evidence.conditions`);
    ``labels`` names each kind's object. Robust: the same word with the
    threshold × 0.5 and × 1.5.
    """
    word, robust = at_most(gap, None, 1e-6)
    found = [Verdict(
        part="C001-1a", framework=name, word=word if native else "does not hold", effect=gap, threshold=1e-6,
        robust=robust, rule="native class for each family, and |LR used - formula| / peak <= 1e-6 at every update",
        evidence=f"all three native: {native}; largest gap / peak {gap_text(gap, 1e-12)}", scope=scope_1a,
        regime="schedules")]
    effects = {kind: returns[name, kind] for kind in ("with restarts", "without restarts")}
    word, condition, robust = conditions(effects, threshold=2)
    found.append(Verdict(
        part="C001-1b", framework=name, word=word, condition=condition, threshold=2, robust=robust,
        effect=float(effects[condition] if condition else min(effects.values())), rule="returns to the top "
        "(within 1 % of the initial LR) in 8 periods >= 2, inside [floor, initial], with and without restarts",
        evidence="returns to the top: " + ", ".join(f"{k} ({labels[k]}) {n}" for k, n in effects.items()),
        scope=scope_1b, regime="schedules"))
    return found
