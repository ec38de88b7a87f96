"""What the frameworks' optimizers really use under an lrlab schedule, measured (the schedules' twins).

:mod:`lrlab.schedules` converts each schedule to a native Keras schedule and a
native torch scheduler; these functions drive a real ``SGD`` optimizer of each
framework on a dummy weight and return the LR each update actually used, so
that the tests and the "Decay schedules" chapter compare them with the numpy
reference ``s(k)``:

* :func:`keras_lrs_used`, :func:`torch_lrs_used`, :func:`lrs_used` — the LR of
  each update under ``s.to_keras()`` and ``s.to_torch(...)``;
* :func:`keras_scheduler_lrs`, :func:`torch_multiplicative_lrs` — a per-epoch
  user function through Keras's ``LearningRateScheduler`` and torch's
  ``MultiplicativeLR`` (E002-5).

Nothing here imports TensorFlow or PyTorch until a function needs it.
"""

from __future__ import annotations

import numpy as np

from lrlab.params import check_int
from lrlab.schedules import _steps  # the reference's own check of update indices

__all__ = ["keras_lrs_used", "keras_scheduler_lrs", "lrs_used", "torch_lrs_used", "torch_multiplicative_lrs"]


def _updates(updates) -> np.ndarray:
    """Return ``updates`` (a count n, or update indices) as sorted unique update indices that include 0."""
    if isinstance(updates, (int, np.integer)) and not isinstance(updates, bool):
        return np.arange(check_int("updates", int(updates), low=0))
    steps, _ = _steps(updates)
    return np.unique(np.concatenate([[0], steps.ravel()]))


def keras_lrs_used(schedule, updates) -> np.ndarray:
    """Return the LR that Keras ``SGD`` with ``schedule.to_keras()`` used for each update of ``updates``.

    ``updates`` is a count n (updates 0…n−1, all run) or an array of update
    indices (0 is always included): the optimizer's own iteration counter is
    set to each k before its update, so that sampling update 40,000 does not
    take 40,000 updates. Before each ``optimizer.apply`` the dummy float32
    weight is reset to 0 and its gradient is −1, so afterwards the weight
    equals the LR that update used.
    """
    from lrlab.determinism import configure_tensorflow

    tf = configure_tensorflow()
    import keras

    ks = _updates(updates)
    optimizer = keras.optimizers.SGD(learning_rate=schedule.to_keras())
    weight = keras.Variable(np.zeros(1, np.float32))
    optimizer.build([weight])
    gradient = tf.constant([-1.0])
    used = np.empty(len(ks))
    for i, k in enumerate(ks):
        optimizer.iterations.assign(int(k))
        weight.assign([0.0])
        optimizer.apply([gradient], [weight])
        used[i] = weight.numpy()[0]
    return used


def torch_lrs_used(schedule, updates, **options) -> np.ndarray:
    """Return the LR that torch ``SGD`` with ``schedule.to_torch(...)`` used for each update of ``updates``.

    The loop is ``optimizer.step(); scheduler.step()``, run through every
    update up to the last one asked for (an update not asked for only steps the
    scheduler). Each update asked for is checked to have moved the dummy
    weight (reset to 0, gradient −1) by exactly its group LR in float32.
    ``options`` go to ``to_torch`` (``cycle_momentum=...``).
    """
    from lrlab.determinism import configure_torch

    torch = configure_torch()
    ks = _updates(updates)
    wanted = set(ks.tolist())
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    scheduler = schedule.to_torch(optimizer, **options)
    used = []
    for k in range(int(ks[-1]) + 1 if len(ks) else 0):
        if k in wanted:
            used.append(optimizer.param_groups[0]["lr"])
            with torch.no_grad():
                weight.zero_()
            weight.grad = torch.tensor([-1.0])
            optimizer.step()
            if weight.item() != np.float32(used[-1]):
                raise RuntimeError(f"update {k} moved the weight by {weight.item()!r}, not by its LR {used[-1]!r}")
        scheduler.step()
    return np.array(used, dtype=np.float64)


def lrs_used(schedule, updates, frameworks=("tf", "torch"), **options):
    """Return a DataFrame of the reference and the LR each framework used: ``k``, ``reference``, ``tf``, ``torch``.

    ``updates`` as in :func:`keras_lrs_used`; ``frameworks`` is any subset of
    ``("tf", "torch")``; ``options`` go to ``to_torch``.
    """
    import pandas as pd

    from lrlab.params import check_frameworks

    ks = _updates(updates)
    table = pd.DataFrame({"k": ks, "reference": schedule(ks)})
    for name in check_frameworks(frameworks):
        table[name] = keras_lrs_used(schedule, ks) if name == "tf" else torch_lrs_used(schedule, ks, **options)
    return table


def keras_scheduler_lrs(fn, epochs: int, lr: float) -> np.ndarray:
    """Return the LR of each epoch under Keras's native ``LearningRateScheduler(fn)`` (E002-5).

    ``fn(epoch, lr)`` returns the LR of ``epoch`` from the previous one; Keras
    calls it at the start of every epoch (``on_epoch_begin``) and writes the
    result into the optimizer, an ``SGD(lr)`` here.
    """
    from lrlab.determinism import configure_tensorflow
    from lrlab.params import check_number
    from lrlab.plateau import _OptimizerHolder, _quiet_keras_lr_reads

    configure_tensorflow()
    import keras

    optimizer = keras.optimizers.SGD(learning_rate=check_number("lr", lr, low=0, low_open=True))
    callback = keras.callbacks.LearningRateScheduler(fn)
    callback.set_model(_OptimizerHolder(optimizer))
    out = []
    with _quiet_keras_lr_reads():
        for epoch in range(check_int("epochs", epochs, low=1)):
            callback.on_epoch_begin(epoch)
            out.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    return np.array(out)


def torch_multiplicative_lrs(factor, epochs: int, lr: float) -> np.ndarray:
    """Return the LR of each epoch under torch's native ``MultiplicativeLR(factor)``, stepped after every epoch.

    ``factor(epoch)`` multiplies the LR on entering ``epoch`` (from 1 on): the
    torch counterpart of a Keras ``LearningRateScheduler`` whose function
    returns ``lr · factor(epoch)``.
    """
    from lrlab.determinism import configure_torch
    from lrlab.params import check_number

    torch = configure_torch()
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=check_number("lr", lr, low=0, low_open=True))
    scheduler = torch.optim.lr_scheduler.MultiplicativeLR(optimizer, factor)
    out = []
    for _ in range(check_int("epochs", epochs, low=1)):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(out)
