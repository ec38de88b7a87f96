"""The framework side of :mod:`lrlab.schedules`: small native subclasses, and what the optimizers really use.

* :func:`keras_classes` — ``LearningRateSchedule`` subclasses for the rules
  Keras has no class for (constant, cyclic, one-cycle, a warmup in front of
  another Keras schedule), computed in float32 with ``keras.ops``.
* :func:`lambda_lr` — torch's native ``LambdaLR`` following an lrlab schedule,
  for the rules torch has no class for.
* :func:`keras_lrs_used`, :func:`torch_lrs_used`, :func:`lrs_used` — drive a
  real ``SGD`` optimizer of each framework and return the LR each update
  actually used (the tests and the "Decay schedules" chapter compare them with
  the numpy reference).
* :func:`keras_scheduler_lrs`, :func:`torch_multiplicative_lrs` — a per-epoch
  user function through Keras's ``LearningRateScheduler`` and torch's
  ``MultiplicativeLR`` (E002-5).

Nothing here imports TensorFlow or PyTorch until a function needs it.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from lrlab.params import check_int

__all__ = ["keras_classes", "keras_lrs_used", "keras_scheduler_lrs", "keras_schedules", "lambda_lr",
           "lr_scheduler", "lrs_used", "set_group_lr", "torch_lrs_used", "torch_multiplicative_lrs"]


def set_group_lr(optimizer, lr: float) -> None:
    """Set every parameter group's ``lr`` and ``initial_lr`` (the base torch's schedulers scale) to ``lr``."""
    for group in optimizer.param_groups:
        group["lr"] = lr
        group["initial_lr"] = lr


class _Ratio:
    """Return ``schedule(n) / base`` for torch's ``LambdaLR`` (a callable object, so it survives ``state_dict``)."""

    def __init__(self, schedule, base: float):
        self.schedule = schedule
        self.base = base

    def __call__(self, n: int) -> float:
        return float(self.schedule(n)) / self.base


def lambda_lr(schedule, optimizer):
    """Return torch's native ``LambdaLR`` following ``schedule`` (for rules torch has no class for)."""
    return lr_scheduler().LambdaLR(optimizer, _Ratio(schedule, schedule._torch_base_lr))


def lr_scheduler():
    """Return the ``torch.optim.lr_scheduler`` module (imported on first use)."""
    from torch.optim import lr_scheduler

    return lr_scheduler


def keras_schedules():
    """Return ``keras.optimizers.schedules``, TensorFlow imported through :func:`lrlab.determinism.configure_tensorflow`."""
    from lrlab.determinism import configure_tensorflow

    configure_tensorflow()
    import keras

    return keras.optimizers.schedules


@functools.cache
def keras_classes() -> dict:
    """Return the small Keras ``LearningRateSchedule`` subclasses for rules Keras has no class for.

    Built on first use (so that importing lrlab.schedules imports no framework);
    each computes its rule in float32 with ``keras.ops``, like Keras's own classes.
    """
    schedules = keras_schedules()
    from keras import ops

    f32 = "float32"

    class _Schedule(schedules.LearningRateSchedule):
        def __init__(self, **config):
            super().__init__()
            self._config = config
            self.__dict__.update(config)

        def get_config(self):
            return dict(self._config)

    class ConstantLearningRate(_Schedule):
        """``learning_rate`` at every step."""

        def __call__(self, step):
            return ops.convert_to_tensor(self.learning_rate, dtype=f32)

    class CyclicLearningRate(_Schedule):
        """Triangular / triangular2 / exp_range cycles between ``base_lr`` and ``max_lr`` (torch's CyclicLR)."""

        def __call__(self, step):
            k = ops.cast(step, f32)
            total = ops.cast(2 * self.step_size_up, f32)
            cycle = ops.floor(1.0 + k / total)
            x = 1.0 + k / total - cycle
            h = ops.where(x <= 0.5, x / 0.5, (x - 1.0) / (0.5 - 1.0))
            if self.mode == "triangular":
                scale = ops.ones_like(k)
            elif self.mode == "triangular2":
                scale = 1.0 / ops.power(ops.cast(2.0, f32), cycle - 1.0)
            else:
                scale = ops.power(ops.cast(self.gamma, f32), k)
            base = ops.cast(self.base_lr, f32)
            return base + (ops.cast(self.max_lr, f32) - base) * h * scale

    class OneCycleLearningRate(_Schedule):
        """Two-phase one-cycle rule of torch's OneCycleLR, held at its last value after ``total_steps``."""

        def __call__(self, step):
            k = ops.minimum(ops.cast(step, f32), ops.cast(self.total_steps - 1, f32))
            top = ops.cast(self.max_lr, f32)
            low = top / ops.cast(self.div_factor, f32)
            end = low / ops.cast(self.final_div_factor, f32)
            e1 = ops.cast(self.pct_start * self.total_steps - 1.0, f32)
            e2 = ops.cast(self.total_steps - 1, f32)
            rising = k <= e1
            start_lr = ops.where(rising, low, top)
            end_lr = ops.where(rising, top, end)
            pct = ops.where(rising, k / e1, (k - e1) / (e2 - e1))
            if self.anneal_strategy == "cos":
                return end_lr + (start_lr - end_lr) / 2.0 * (ops.cos(math.pi * pct) + 1.0)
            return (end_lr - start_lr) * pct + start_lr

    class LinearWarmup(_Schedule):
        """Linear warmup from ``start_lr`` to ``target_lr`` over ``warmup_steps``, then ``after(step − warmup_steps)``."""

        def __call__(self, step):
            k = ops.cast(step, f32)
            w = ops.cast(self.warmup_steps, f32)
            start = ops.cast(self.start_lr, f32)
            ramp = (ops.cast(self.target_lr, f32) - start) * (k / w) + start
            later = ops.cast(self.after(ops.maximum(ops.cast(step, "int64") - self.warmup_steps, 0)), f32)
            return ops.where(k < w, ramp, later)

    return {cls.__name__: cls for cls in (ConstantLearningRate, CyclicLearningRate, OneCycleLearningRate,
                                          LinearWarmup)}


def _updates(updates) -> np.ndarray:
    """Return ``updates`` (a count n, or update indices) as sorted unique update indices that include 0."""
    if isinstance(updates, (int, np.integer)) and not isinstance(updates, bool):
        return np.arange(check_int("updates", int(updates), low=0))
    from lrlab.schedules import _steps  # the reference's own check of update indices

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
    """Return a DataFrame of the reference and the LR each framework used: columns ``k``, ``reference``, ``tf``, ``torch``.

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
    from lrlab.plateau import _OptimizerHolder, _quiet_keras_lr_reads
    from lrlab.params import check_number

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
