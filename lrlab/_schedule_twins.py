"""The framework side of :mod:`lrlab.schedules`: the native classes its ``to_keras`` / ``to_torch`` return.

* :func:`keras_classes` — ``LearningRateSchedule`` subclasses for the rules
  Keras has no class for (constant, cyclic, one-cycle, a warmup in front of
  another Keras schedule), computed in float32 with ``keras.ops``.
* :func:`lambda_lr` — torch's native ``LambdaLR`` following an lrlab schedule,
  for the rules torch has no class for.
* :func:`keras_schedules`, :func:`lr_scheduler` — the frameworks' schedule
  modules, imported on first use; :func:`set_group_lr`.

What the optimizers then really use is measured by :mod:`lrlab.schedule_twins`.
Nothing here imports TensorFlow or PyTorch until a function needs it.
"""

from __future__ import annotations

import functools
import math

__all__ = ["keras_classes", "keras_schedules", "lambda_lr", "lr_scheduler", "set_group_lr"]


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
    """Return ``keras.optimizers.schedules``, TensorFlow imported through ``configure_tensorflow``.

    (:func:`lrlab.determinism.configure_tensorflow`: quiet logs, deterministic ops, one thread.)
    """
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
        """Linear warmup from ``start_lr`` to ``target_lr`` over ``warmup_steps``, then ``after(step − warmup_steps)``.
        """

        def __call__(self, step):
            k = ops.cast(step, f32)
            w = ops.cast(self.warmup_steps, f32)
            start = ops.cast(self.start_lr, f32)
            ramp = (ops.cast(self.target_lr, f32) - start) * (k / w) + start
            later = ops.cast(self.after(ops.maximum(ops.cast(step, "int64") - self.warmup_steps, 0)), f32)
            return ops.where(k < w, ramp, later)

    return {cls.__name__: cls for cls in (ConstantLearningRate, CyclicLearningRate, OneCycleLearningRate,
                                          LinearWarmup)}
