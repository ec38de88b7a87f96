"""Evidence for the verdicts of chapters 1, 2, 4 and 5: "at most" rules, verdict tables, LR curves of native objects.

:func:`lrlab.verdicts.decide` answers claims of the form "the effect is at
least the threshold". Some parts claim the opposite kind of thing — a suggested
learning rate "is good": its loss is *at most* 25 % above the best one. For those,
:func:`at_most` applies :func:`~lrlab.verdicts.decide` to the margin
``bound − effect``: "inconclusive" when the effect cannot be told from the bound
(within twice the seed noise), otherwise "holds" when it lies below it.

>>> at_most(0.05, 0.01, 0.25)
('holds', True)
>>> at_most(0.3, 0.05, 0.25)
('inconclusive', False)
>>> returns_to_top([1.0, 0.5, 0.2, 1.0, 0.4, 1.0])
2
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.params import check_number
from lrlab.verdicts import decide, decide_conditions

__all__ = ["at_most", "conditions", "keras_lrs", "returns_to_top", "torch_lrs", "verdict_table"]


def at_most(effect: float, noise: float | None, bound: float) -> tuple[str, bool]:
    """Return ``(word, robust)`` for the claim ``effect <= bound``; robust: the same word with ``bound`` × 0.5, × 1.5.

    The rule is :func:`lrlab.verdicts.decide` on the margin ``bound − effect``
    with threshold 0: within twice ``noise`` of the bound the word is
    "inconclusive".
    """
    check_number("bound", bound, low=0, low_open=True)
    word = decide(bound - effect, noise, 0.0)
    return word, all(decide(bound * f - effect, noise, 0.0) == word for f in (0.5, 1.5))


def conditions(effects: dict, threshold: float, direction: int = 1, noise: dict | None = None,
               bound: bool = False) -> tuple[str, str, bool]:
    """Return ``(word, condition, robust)`` from one effect per named condition (``verdicts.decide_conditions``).

    Each condition's word is :func:`lrlab.verdicts.decide` (``effect`` at least
    ``threshold``), or :func:`at_most` when ``bound`` is true (``effect`` at most
    ``threshold``); ``noise`` maps conditions to their seed noise. ``robust``: the
    same word and condition with ``threshold`` × 0.5 and × 1.5.

    >>> conditions({"lr = 1": 1.0, "lr > 1": 5.6e4}, threshold=10)
    ('holds only when', 'lr > 1', True)
    >>> conditions({"exp": 0.05, "linear": 0.9}, threshold=0.25, noise={"exp": 0.01, "linear": 0.1}, bound=True)
    ('holds only when', 'exp', True)
    """
    noise = noise or {}

    def one(e, n, t):
        return at_most(e, n, t)[0] if bound else decide(e, n, t, direction)

    def verdict(t):
        return decide_conditions({c: one(e, noise.get(c), t) for c, e in effects.items()})

    word, condition = verdict(threshold)
    return word, condition, all(verdict(threshold * f) == (word, condition) for f in (0.5, 1.5))


def verdict_table(verdicts, digits: int = 3) -> pd.DataFrame:
    """Return the page's verdict table: one row per verdict with framework, effect, noise, threshold, word, robustness.

    Numbers print with ``digits`` significant digits; a deterministic measurement
    has noise "-".
    """
    def text(value):
        return "-" if value is None else f"{value:.{digits}g}"

    return pd.DataFrame([{"part": v.part, "framework": v.framework, "effect": text(v.effect), "noise": text(v.noise),
                          "threshold": text(v.threshold), "verdict": v.text,
                          "survives ±50 %": "yes" if v.robust else "no"} for v in verdicts])


def returns_to_top(lrs, rel: float = 0.01) -> int:
    """Return how often the LR comes back to the top of its range (within ``rel`` of its first value)."""
    check_number("rel", rel, low=0, high=1, low_open=True, high_open=True)
    lrs = np.asarray(lrs, dtype=float)
    top = lrs >= lrs[0] * (1 - rel)
    return int((top[1:] & ~top[:-1]).sum())


def keras_lrs(schedule, updates: int) -> np.ndarray:
    """Return the LR a Keras ``LearningRateSchedule`` gives updates 0, …, ``updates − 1`` (in float32, as Keras)."""
    return np.array([float(schedule(k)) for k in range(updates)])


def torch_lrs(make_scheduler, updates: int, lr: float) -> np.ndarray:
    """Return the LR a PyTorch scheduler sets for updates 0, 1, …: ``make_scheduler(optimizer)`` on an ``SGD(lr=lr)``.

    The loop is PyTorch's documented one: ``optimizer.step(); scheduler.step()``,
    reading ``param_groups[0]["lr"]`` before each update.
    """
    from lrlab.determinism import configure_torch

    torch = configure_torch()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(updates):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(lrs)
