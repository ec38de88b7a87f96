"""Learning-rate schedules: one numpy reference, native Keras and PyTorch twins.

A schedule ``s`` made by :func:`make` is pure math on the update counter:
``s(k)`` is the learning rate **used by update k** (k = 0, 1, 2, …; an int or a
numpy array of ints). It is the spec the frameworks are tested against:

* ``s.to_keras()`` returns a ``keras.optimizers.schedules.LearningRateSchedule``
  — the native class where one computes the same formula, else a small subclass —
  to pass as an optimizer's ``learning_rate``. Keras's optimizer evaluates it at
  its iteration counter *before* the update, so update k uses ``s(k)``.
* ``s.to_torch(optimizer)`` returns a ``torch.optim.lr_scheduler.LRScheduler``
  (native where one fits) and sets every parameter group's LR to ``s(0)``.
  Step it **after** each ``optimizer.step()`` (the documented order); update k
  then uses ``s(k)``.

**What a step is.** A schedule counts whatever its caller steps it by. The
backends' ``fit(..., schedule_unit="step")`` advances it once per optimizer
update; ``schedule_unit="epoch"`` once per epoch, so that ``k`` is the epoch
index and every update of epoch k uses ``s(k)`` (the book does this for the
epoch-based rules of E001-2, E002-2/3 and E004-3).

**Float64, and what "exactly" means.** ``s(k)`` is computed in float64. PyTorch's
native schedulers compute in float64 too and agree with it to ~1e-16. Keras
computes every schedule in float32 (the dtype of ``initial_learning_rate``) with
TensorFlow's float32 ``pow``/``cos``, so its LRs are within float32 rounding of
``s(k)`` (~1e-7 relative) and cannot be closer: the optimizer's LR variable is
float32. No numpy float32 evaluation reproduces Keras bit for bit either:
TensorFlow's float32 ``pow`` is not correctly rounded and differs from numpy's
float32 ``pow`` (measured: in 72 of the exponents 0…199 of 0.99, and in 23 of
those of 0.5, where numpy is exact), and numpy's own float32 ``pow`` depends on
the CPU (SIMD kernels on AVX-512 machines). So the reference stays float64, the
machine-independent spec, and the tests hold both frameworks to it at float32
tolerance. For E004-4 this means torch uses the correctly rounded float32 of
``0.1·0.99**k`` while Keras (and TF1 in 2018) use their own ``pow``'s rounding:
the weights still end at the published final w.

Every function and class raises :class:`lrlab.ParameterError` (a ``ValueError``)
naming the parameter and the value when a parameter is out of range.
"""

from __future__ import annotations

import math

import numpy as np

from lrlab.params import ParameterError, check_bool, check_choice, check_int, check_number

__all__ = [
    "Constant",
    "Exponential",
    "Schedule",
    "make",
    "names",
]

_REGISTRY: dict[str, type] = {}


def register(cls):
    """Return ``cls`` after adding it to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """Return the registered schedule names, sorted."""
    return sorted(_REGISTRY)


def make(name: str, **params) -> "Schedule":
    """Return the schedule registered as ``name``, built from ``params``.

    ``make("exponential", initial_lr=0.1, decay_steps=1, decay_rate=0.99, staircase=True)``.
    """
    check_choice("name", name, names())
    return _REGISTRY[name](**params)


def _steps(k):
    """Return ``(k as an int64 array, whether k was a scalar)`` after checking k is a whole number >= 0."""
    array = np.asarray(k)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or (np.issubdtype(array.dtype, np.floating)
                                       and np.all(np.isfinite(array)) and np.all(array == np.floor(array)))):
        raise ParameterError(f"k = {k!r} is not allowed; expected a whole number >= 0 or an array of them")
    if np.any(array < 0):
        raise ParameterError(f"k = {k!r} is not allowed; expected update indices >= 0")
    return array.astype(np.int64), array.ndim == 0


class Schedule:
    """A learning-rate schedule: ``s(k)`` returns the float64 LR of update k; subclasses give the formula.

    Subclasses set ``name`` (the registry name) and ``seed_rows`` (the E…/C…
    rows served), store their validated parameters in ``_params`` and implement
    ``_lr(k)`` (k an int64 array, returning a float64 array), ``to_keras()`` and
    ``_torch(optimizer)``.
    """

    name = ""
    seed_rows = ""
    _params: dict = {}

    # --- the reference -----------------------------------------------------------------
    def __call__(self, k):
        """Return the LR used by update ``k`` (a numpy float64, or an array shaped like ``k``)."""
        steps, scalar = _steps(k)
        with np.errstate(over="ignore", under="ignore"):
            values = np.asarray(self._lr(steps), dtype=np.float64)
        values = np.broadcast_to(values, steps.shape).copy()
        return values[()] if scalar else values

    def _lr(self, k: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def initial_lr(self) -> float:
        """Return ``s(0)`` as a Python float."""
        return float(self(0))

    def params(self) -> dict:
        """Return the parameters that rebuild this schedule with :func:`make` (without ``name``)."""
        return dict(self._params)

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params().items())
        return f"make({self.name!r}, {args})"

    # --- the framework twins -----------------------------------------------------------
    def to_keras(self):  # pragma: no cover - abstract
        """Return a ``keras.optimizers.schedules.LearningRateSchedule`` computing ``s(k)`` in float32."""
        raise NotImplementedError

    def to_torch(self, optimizer, **options):
        """Return a torch ``LRScheduler`` that makes ``optimizer`` use ``s(k)`` for update k.

        Every parameter group's LR (and ``initial_lr``) is overwritten with
        ``s(0)``: all groups follow this schedule. Step the scheduler once after
        each ``optimizer.step()`` (or once per epoch, if ``k`` counts epochs).
        """
        _set_group_lr(optimizer, self.initial_lr)
        return self._torch(optimizer, **options)

    def _torch(self, optimizer, **options):  # pragma: no cover - abstract
        raise NotImplementedError


def _set_group_lr(optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
        group["initial_lr"] = lr


class _Ratio:
    """Return ``schedule(n) / base`` for torch's ``LambdaLR`` (a callable object, so it survives ``state_dict``)."""

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.base = schedule.initial_lr

    def __call__(self, n: int) -> float:
        return float(self.schedule(n)) / self.base


def _lambda_lr(schedule: Schedule, optimizer):
    """Return torch's native ``LambdaLR`` following ``schedule`` (for rules torch has no class for)."""
    return _lr_scheduler().LambdaLR(optimizer, _Ratio(schedule))


def _lr_scheduler():
    from torch.optim import lr_scheduler

    return lr_scheduler


def _keras_schedules():
    from lrlab.determinism import configure_tensorflow

    configure_tensorflow()
    import keras

    return keras.optimizers.schedules


def _keras_constant(lr: float):
    """Return a Keras schedule that is ``lr`` at every step (Keras has no constant schedule class)."""
    schedules = _keras_schedules()
    from keras import ops

    class ConstantLearningRate(schedules.LearningRateSchedule):
        def __init__(self, learning_rate):
            self.learning_rate = learning_rate

        def __call__(self, step):
            return ops.convert_to_tensor(self.learning_rate, dtype="float32")

        def get_config(self):
            return {"learning_rate": self.learning_rate}

    return ConstantLearningRate(lr)


# ======================================================================================
# the schedules
# ======================================================================================


@register
class Constant(Schedule):
    """Return ``lr`` for every update: ``s(k) = lr``.

    Seed rows: E000-3 (a fixed LR), and the baseline of every comparison.
    Keras: a tiny ``LearningRateSchedule`` subclass (Keras has no constant class);
    torch: ``ConstantLR(factor=1.0, total_iters=0)``.
    """

    name = "constant"
    seed_rows = "E000-3"

    def __init__(self, lr: float):
        self.lr = check_number("lr", lr, low=0, low_open=True)
        self._params = {"lr": self.lr}

    def _lr(self, k):
        return np.full(k.shape, self.lr)

    def to_keras(self):
        return _keras_constant(self.lr)

    def _torch(self, optimizer):
        return _lr_scheduler().ConstantLR(optimizer, factor=1.0, total_iters=0)


@register
class Exponential(Schedule):
    """Return ``initial_lr · decay_rate ** (k / decay_steps)``; with ``staircase`` the exponent is ``floor(k / decay_steps)``.

    Seed rows: E000-2 (TF1 ``exponential_decay`` with staircase), E001-1
    (``ExponentialDecay(0.1, 100, 0.96, staircase=True)``), E001-2
    (``ExponentialLR(0.96)`` stepped per epoch), E002-2 (decay by epochs), E004-3,
    E004-4 (the golden table, ``0.1 · 0.99**k``), C001-1.

    ``staircase`` holds the LR constant for ``decay_steps`` updates and then
    multiplies it by ``decay_rate`` (a step function); without it the LR falls a
    little at every update and passes through the same values at multiples of
    ``decay_steps``. ``decay_rate > 1`` grows the LR.

    Keras: native ``ExponentialDecay``. torch: native ``StepLR(decay_steps,
    decay_rate)`` for the staircase (and for ``decay_steps == 1``, where both
    forms coincide: ``ExponentialLR(decay_rate)``), ``ExponentialLR(decay_rate **
    (1/decay_steps))`` for the continuous form. Both torch classes multiply the
    previous LR by the factor in float64 (drift ~1e-16 per update).
    """

    name = "exponential"
    seed_rows = "E000-2, E001-1, E001-2, E002-2, E004-3, E004-4, C001-1"

    def __init__(self, initial_lr: float, decay_steps: int, decay_rate: float, staircase: bool = False):
        self.lr0 = check_number("initial_lr", initial_lr, low=0, low_open=True)
        self.decay_steps = check_int("decay_steps", decay_steps, low=1)
        self.decay_rate = check_number("decay_rate", decay_rate, low=0, low_open=True)
        self.staircase = check_bool("staircase", staircase)
        self._params = {"initial_lr": self.lr0, "decay_steps": self.decay_steps,
                        "decay_rate": self.decay_rate, "staircase": self.staircase}

    def _lr(self, k):
        p = k / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return self.lr0 * np.power(self.decay_rate, p)

    def to_keras(self):
        return _keras_schedules().ExponentialDecay(self.lr0, self.decay_steps, self.decay_rate,
                                                   staircase=self.staircase)

    def _torch(self, optimizer):
        lr_scheduler = _lr_scheduler()
        if self.decay_steps == 1:
            return lr_scheduler.ExponentialLR(optimizer, gamma=self.decay_rate)
        if self.staircase:
            return lr_scheduler.StepLR(optimizer, step_size=self.decay_steps, gamma=self.decay_rate)
        return lr_scheduler.ExponentialLR(optimizer, gamma=self.decay_rate ** (1.0 / self.decay_steps))
