"""The PyTorch training backend; :mod:`lrlab.tf` mirrors it name for name.

Importing this module configures PyTorch first (deterministic algorithms, one
thread: :func:`lrlab.determinism.configure_torch`). The logic the two backends
share lives in :mod:`lrlab.training`; this module only makes the torch calls.
(``import torch`` below is the real PyTorch: imports are absolute.)
"""

from __future__ import annotations

from lrlab.determinism import configure_torch

torch = configure_torch()

import numpy as np  # noqa: E402

from lrlab import training  # noqa: E402

__all__ = ["descend"]

FRAMEWORK = "torch"


def _scheduler(lr, optimizer):
    """Return the torch LR scheduler of an lrlab schedule, or None for a float LR."""
    return lr.to_torch(optimizer) if training.is_schedule(lr) else None


def _initial_lr(lr) -> float:
    """Return the LR to build a torch optimizer with (a schedule's scheduler overrides it)."""
    return float(lr(0)) if training.is_schedule(lr) else float(lr)


def descend(loss, w0, lr, steps):
    """Return one row per update of plain gradient descent on one float32 weight (torch SGD).

    Update k is ``w ← w − η_k·dL/dw`` (E000-1, E004-1), made by
    ``torch.optim.SGD`` with ``η`` a float or an lrlab schedule (E004-4),
    stepped as ``optimizer.step(); scheduler.step()``. Columns: ``step`` (k),
    ``lr_used`` (η_k, the LR update k used), ``lr_next`` (what
    ``scheduler.get_last_lr()[0]`` reports after the update, i.e. η_{k+1}:
    what TF1 printed), ``loss`` (L at the new weight) and ``w`` (the new
    weight), all float32.
    """
    loss, w0, lr, steps = training.check_descend(loss, w0, lr, steps)
    w = torch.tensor(np.float32(w0), dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=_initial_lr(lr))
    scheduler = _scheduler(lr, optimizer)
    group = optimizer.param_groups[0]
    rows = []
    for k in range(steps):
        lr_used = group["lr"]
        optimizer.zero_grad(set_to_none=True)
        loss(w).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        lr_next = scheduler.get_last_lr()[0] if scheduler is not None else group["lr"]
        with torch.no_grad():
            rows.append((k, lr_used, lr_next, loss(w).item(), w.item()))
    return training.descend_table(rows)
