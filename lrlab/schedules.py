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

import numpy as np

from lrlab import _schedule_twins as twins
from lrlab.params import ParameterError, check_bool, check_choice, check_int, check_number

__all__ = [
    "Constant",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "InverseTime",
    "MultiStep",
    "OneCycle",
    "Polynomial",
    "Schedule",
    "Step",
    "Warmup",
    "make",
    "names",
]

_REGISTRY: dict[str, type] = {}


def register(cls):
    """Return ``cls`` after adding it to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """Return the registered schedule names, sorted.

    >>> names()  # doctest: +NORMALIZE_WHITESPACE
    ['constant', 'cosine', 'cosine_restarts', 'cyclic', 'exponential', 'inverse_time', 'multistep',
     'one_cycle', 'polynomial', 'step', 'warmup']
    """
    return sorted(_REGISTRY)


def make(name: str, **params) -> "Schedule":
    """Return the schedule registered as ``name``, built from ``params``.

    ``s(k)`` is the LR update k uses (k an int or an array of update indices);
    ``s.to_keras()`` and ``s.to_torch(optimizer)`` are its native twins.

    >>> s = make("step", initial_lr=0.1, step_size=2, gamma=0.5)   # 0.1·0.5^⌊k/2⌋
    >>> s(np.arange(6)).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    >>> float(s(3)), s
    (0.05, make('step', initial_lr=0.1, step_size=2, gamma=0.5))
    >>> e004_4 = make("exponential", initial_lr=0.1, decay_steps=1, decay_rate=0.99, staircase=True)
    >>> np.round(e004_4([0, 1, 2, 40]), 6).tolist()                 # 0.1·0.99^k
    [0.1, 0.099, 0.09801, 0.066897]
    >>> warm = make("warmup", after=make("cosine", initial_lr=0.1, decay_steps=4), warmup_steps=2, start_lr=0.01)
    >>> np.round(warm(np.arange(8)), 6).tolist()                  # linear 0.01 → 0.1, then the cosine
    [0.01, 0.055, 0.1, 0.085355, 0.05, 0.014645, 0.0, 0.0]
    >>> make("triangle", lr=0.1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: name = 'triangle' is not allowed; expected one of ...
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
        A schedule made of pieces (cosine then its floor, a warmup then another
        schedule) is torch's native ``SequentialLR`` over the pieces.
        """
        twins.set_group_lr(optimizer, self._torch_base_lr)
        segments = self._torch_segments(optimizer, **options)
        if len(segments) == 1:
            return segments[0][0]
        milestones = list(np.cumsum([length for _, length in segments[:-1]]).astype(int).tolist())
        return twins.lr_scheduler().SequentialLR(optimizer, [child for child, _ in segments], milestones)

    @property
    def _torch_base_lr(self) -> float:
        """Return the LR torch's schedulers scale (the groups' ``initial_lr``): ``s(0)`` unless a warmup precedes it."""
        return self.initial_lr

    def _torch_segments(self, optimizer, **options) -> list:
        """Return ``[(native scheduler, number of updates it lasts or None for the rest)]``."""
        return [(self._torch(optimizer, **options), None)]

    def _torch(self, optimizer, **options):  # pragma: no cover - abstract
        raise NotImplementedError


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
        return twins.keras_classes()["ConstantLearningRate"](learning_rate=self.lr)

    def _torch(self, optimizer):
        return twins.lr_scheduler().ConstantLR(optimizer, factor=1.0, total_iters=0)


@register
class Exponential(Schedule):
    """Return ``initial_lr · decay_rate ** (k / decay_steps)``; ``staircase`` floors the exponent: ``⌊k/decay_steps⌋``.

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
        return twins.keras_schedules().ExponentialDecay(self.lr0, self.decay_steps, self.decay_rate,
                                                   staircase=self.staircase)

    def _torch(self, optimizer):
        lr_scheduler = twins.lr_scheduler()
        if self.decay_steps == 1:
            return lr_scheduler.ExponentialLR(optimizer, gamma=self.decay_rate)
        if self.staircase:
            return lr_scheduler.StepLR(optimizer, step_size=self.decay_steps, gamma=self.decay_rate)
        return lr_scheduler.ExponentialLR(optimizer, gamma=self.decay_rate ** (1.0 / self.decay_steps))


@register
class Step(Schedule):
    """Return ``initial_lr · gamma ** ⌊k / step_size⌋``: the LR is multiplied by ``gamma`` every ``step_size`` updates.

    Seed rows: E002-3 and E004-3 ("halve the LR every N epochs", stepped per
    epoch), C001-1 (fixed-step decay). Keras: native ``ExponentialDecay(initial_lr,
    step_size, gamma, staircase=True)``; torch: native ``StepLR(step_size, gamma)``.
    """

    name = "step"
    seed_rows = "E002-3, E004-3, C001-1"

    def __init__(self, initial_lr: float, step_size: int, gamma: float):
        self.lr0 = check_number("initial_lr", initial_lr, low=0, low_open=True)
        self.step_size = check_int("step_size", step_size, low=1)
        self.gamma = check_number("gamma", gamma, low=0, low_open=True)
        self._params = {"initial_lr": self.lr0, "step_size": self.step_size, "gamma": self.gamma}

    def _lr(self, k):
        return self.lr0 * np.power(self.gamma, np.floor(k / self.step_size))

    def to_keras(self):
        return twins.keras_schedules().ExponentialDecay(self.lr0, self.step_size, self.gamma, staircase=True)

    def _torch(self, optimizer):
        return twins.lr_scheduler().StepLR(optimizer, step_size=self.step_size, gamma=self.gamma)


@register
class MultiStep(Schedule):
    """Return ``initial_lr · gamma ** (number of milestones <= k)``: update ``k = m`` already uses the new LR.

    Seed rows: E002-3, E004-3 (step decay at chosen epochs). torch: native
    ``MultiStepLR(milestones, gamma)``, which switches *at* the milestone. Keras:
    native ``PiecewiseConstantDecay``, which keeps the old value *at* its
    boundary (``s <= b``), so milestone m becomes boundary ``m − 1``.
    """

    name = "multistep"
    seed_rows = "E002-3, E004-3"

    def __init__(self, initial_lr: float, milestones, gamma: float):
        self.lr0 = check_number("initial_lr", initial_lr, low=0, low_open=True)
        allowed = "a non-empty, strictly increasing list of whole numbers >= 1"
        try:
            ms = [check_int("milestones", m, low=1) for m in milestones]
        except (TypeError, ParameterError):
            raise ParameterError(f"milestones = {milestones!r} is not allowed; expected {allowed}") from None
        if not ms or any(b <= a for a, b in zip(ms, ms[1:])):
            raise ParameterError(f"milestones = {milestones!r} is not allowed; expected {allowed}")
        self.milestones = ms
        self.gamma = check_number("gamma", gamma, low=0, low_open=True)
        self._params = {"initial_lr": self.lr0, "milestones": list(ms), "gamma": self.gamma}

    def _lr(self, k):
        passed = np.searchsorted(np.array(self.milestones), k, side="right")
        return self.lr0 * np.power(self.gamma, passed)

    def to_keras(self):
        values = [self.lr0 * self.gamma ** j for j in range(len(self.milestones) + 1)]
        return twins.keras_schedules().PiecewiseConstantDecay([m - 1 for m in self.milestones], values)

    def _torch(self, optimizer):
        return twins.lr_scheduler().MultiStepLR(optimizer, milestones=list(self.milestones), gamma=self.gamma)


@register
class InverseTime(Schedule):
    """Return ``initial_lr / (1 + decay_rate · k / decay_steps)`` (``floor(k / decay_steps)`` with ``staircase``).

    Seed rows: E004-3 ("fractional" decay ``lr0 / (1 + k·t)``). Keras: native
    ``InverseTimeDecay``; torch has no class for it: native ``LambdaLR``.
    """

    name = "inverse_time"
    seed_rows = "E004-3"

    def __init__(self, initial_lr: float, decay_steps: int, decay_rate: float, staircase: bool = False):
        self.lr0 = check_number("initial_lr", initial_lr, low=0, low_open=True)
        self.decay_steps = check_int("decay_steps", decay_steps, low=1)
        self.decay_rate = check_number("decay_rate", decay_rate, low=0)
        self.staircase = check_bool("staircase", staircase)
        self._params = {"initial_lr": self.lr0, "decay_steps": self.decay_steps,
                        "decay_rate": self.decay_rate, "staircase": self.staircase}

    def _lr(self, k):
        p = k / self.decay_steps
        return self.lr0 / (1.0 + self.decay_rate * (np.floor(p) if self.staircase else p))

    def to_keras(self):
        return twins.keras_schedules().InverseTimeDecay(self.lr0, self.decay_steps, self.decay_rate,
                                                   staircase=self.staircase)

    def _torch(self, optimizer):
        return twins.lambda_lr(self, optimizer)


@register
class Polynomial(Schedule):
    """Return ``(initial_lr − end_lr) · (1 − min(k, decay_steps) / decay_steps) ** power + end_lr``.

    Holds ``end_lr`` from update ``decay_steps`` on. lrlab's ``end_lr`` defaults
    to 0 and is always passed to Keras, whose ``PolynomialDecay`` would
    otherwise end at 1e-4. Keras: native ``PolynomialDecay(cycle=False)``;
    torch: native ``PolynomialLR(decay_steps, power)`` when ``end_lr == 0``
    (it can only end at 0), else ``LambdaLR``. Seed rows: C001-1 (a decay family).
    """

    name = "polynomial"
    seed_rows = "C001-1"

    def __init__(self, initial_lr: float, decay_steps: int, end_lr: float = 0.0, power: float = 1.0):
        self.lr0 = check_number("initial_lr", initial_lr, low=0, low_open=True)
        self.decay_steps = check_int("decay_steps", decay_steps, low=1)
        self.end_lr = check_number("end_lr", end_lr, low=0)
        self.power = check_number("power", power, low=0, low_open=True)
        self._params = {"initial_lr": self.lr0, "decay_steps": self.decay_steps, "end_lr": self.end_lr,
                        "power": self.power}

    def _lr(self, k):
        frac = np.minimum(k, self.decay_steps) / self.decay_steps
        return (self.lr0 - self.end_lr) * np.power(1.0 - frac, self.power) + self.end_lr

    def to_keras(self):
        return twins.keras_schedules().PolynomialDecay(self.lr0, self.decay_steps, end_learning_rate=self.end_lr,
                                                  power=self.power, cycle=False)

    def _torch(self, optimizer):
        if self.end_lr == 0.0:
            return twins.lr_scheduler().PolynomialLR(optimizer, total_iters=self.decay_steps, power=self.power)
        return twins.lambda_lr(self, optimizer)


def _half_cosine(x):
    return 0.5 * (1.0 + np.cos(np.pi * x))


@register
class Cosine(Schedule):
    """Return ``initial_lr · ((1 − alpha) · ½(1 + cos(π · min(k, decay_steps) / decay_steps)) + alpha)``.

    Falls from ``initial_lr`` to ``alpha · initial_lr`` over ``decay_steps``
    updates and **holds** there (``alpha`` is a fraction of the initial LR, as
    in Keras). Seed rows: C001-1 (cosine annealing). Keras: native
    ``CosineDecay``. torch's ``CosineAnnealingLR`` (``eta_min`` absolute) rises
    again after ``T_max``, so the twin is native ``SequentialLR`` of
    ``CosineAnnealingLR(decay_steps, eta_min=alpha·initial_lr)`` and
    ``ConstantLR(alpha)`` from update ``decay_steps`` on.
    """

    name = "cosine"
    seed_rows = "C001-1"

    def __init__(self, initial_lr: float, decay_steps: int, alpha: float = 0.0):
        self.lr0 = check_number("initial_lr", initial_lr, low=0, low_open=True)
        self.decay_steps = check_int("decay_steps", decay_steps, low=1)
        self.alpha = check_number("alpha", alpha, low=0, high=1)
        self._params = {"initial_lr": self.lr0, "decay_steps": self.decay_steps, "alpha": self.alpha}

    def _lr(self, k):
        frac = np.minimum(k, self.decay_steps) / self.decay_steps
        return self.lr0 * ((1.0 - self.alpha) * _half_cosine(frac) + self.alpha)

    def to_keras(self):
        return twins.keras_schedules().CosineDecay(self.lr0, self.decay_steps, alpha=self.alpha)

    def _torch_segments(self, optimizer):
        lr_scheduler = twins.lr_scheduler()
        return [(lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.decay_steps, eta_min=self.alpha * self.lr0),
                 self.decay_steps),
                (lr_scheduler.ConstantLR(optimizer, factor=self.alpha, total_iters=2**62), None)]


@register
class CosineRestarts(Schedule):
    """Return SGDR's cosine with warm restarts: period i lasts ``first_decay_steps · t_mul**i`` updates.

    In period i, at fraction ``x`` of it, the LR is
    ``initial_lr · ((1 − alpha) · m_mul**i · ½(1 + cos(π x)) + alpha)`` (Keras's
    convention: ``alpha`` is a fraction of ``initial_lr`` and is not scaled by
    ``m_mul``). Keras: native ``CosineDecayRestarts``. torch: native
    ``CosineAnnealingWarmRestarts(first_decay_steps, T_mult=t_mul,
    eta_min=alpha·initial_lr)`` when ``t_mul`` is a whole number and ``m_mul ==
    1`` (torch has no peak decay), else ``LambdaLR``. Seed rows: C001-1 (cosine
    annealing, restarted).
    """

    name = "cosine_restarts"
    seed_rows = "C001-1"

    def __init__(self, initial_lr: float, first_decay_steps: int, t_mul: float = 2.0, m_mul: float = 1.0,
                 alpha: float = 0.0):
        self.lr0 = check_number("initial_lr", initial_lr, low=0, low_open=True)
        self.first_decay_steps = check_int("first_decay_steps", first_decay_steps, low=1)
        self.t_mul = check_number("t_mul", t_mul, low=1)
        self.m_mul = check_number("m_mul", m_mul, low=0, low_open=True)
        self.alpha = check_number("alpha", alpha, low=0, high=1)
        self._params = {"initial_lr": self.lr0, "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                        "m_mul": self.m_mul, "alpha": self.alpha}

    def _period_start(self, i):
        d, t = self.first_decay_steps, self.t_mul
        return d * i if t == 1.0 else d * (np.power(t, i) - 1.0) / (t - 1.0)

    def _lr(self, k):
        d, t = self.first_decay_steps, self.t_mul
        if t == 1.0:
            i = np.floor_divide(k, d).astype(np.float64)
        else:  # the closed form, then exact integer boundaries (k is a whole number)
            i = np.floor(np.log1p(k * (t - 1.0) / d) / np.log(t))
            for _ in range(2):
                i = np.where(self._period_start(i + 1) <= k, i + 1, i)
                i = np.where(self._period_start(i) > k, i - 1, i)
        frac = (k - self._period_start(i)) / (d * np.power(t, i))
        return self.lr0 * ((1.0 - self.alpha) * np.power(self.m_mul, i) * _half_cosine(frac) + self.alpha)

    def to_keras(self):
        return twins.keras_schedules().CosineDecayRestarts(self.lr0, self.first_decay_steps, t_mul=self.t_mul,
                                                      m_mul=self.m_mul, alpha=self.alpha)

    def _torch(self, optimizer):
        if self.m_mul == 1.0 and self.t_mul == int(self.t_mul):
            return twins.lr_scheduler().CosineAnnealingWarmRestarts(
                optimizer, T_0=self.first_decay_steps, T_mult=int(self.t_mul), eta_min=self.alpha * self.lr0)
        return twins.lambda_lr(self, optimizer)


@register
class Warmup(Schedule):
    """Return the linear ramp ``start_lr + (after(0) − start_lr)·k/warmup_steps``, then ``after(k − warmup_steps)``.

    A linear warmup into any other schedule ``after``, given as a schedule or
    as the keyword arguments of :func:`make` (``{"name": "cosine", ...}``).
    ``after`` starts at update ``warmup_steps``, counting from 0 then.
    ``start_lr`` must be > 0: a warmup from 0 (Keras ``CosineDecay`` with
    ``initial_learning_rate=0``, torch ``LambdaLR(k / W)``) makes update 0 a
    no-op. Seed rows: E000-3 (linear warmup to a target LR).

    Keras: native ``CosineDecay(start_lr, …, warmup_target, warmup_steps)`` when
    ``after`` is a cosine, else a small ``LinearWarmup`` subclass around
    ``after.to_keras()``. torch: native ``SequentialLR`` of ``LinearLR(start_lr /
    after(0), 1, warmup_steps)`` and ``after``'s scheduler(s), or ``LambdaLR``
    when ``start_lr > after(0)`` (``LinearLR`` cannot warm down).
    """

    name = "warmup"
    seed_rows = "E000-3"

    def __init__(self, after, warmup_steps: int, start_lr: float):
        if isinstance(after, dict) and "name" in after:
            after = make(**after)
        if not isinstance(after, Schedule):
            raise ParameterError(f"after = {after!r} is not allowed; expected an lrlab schedule or a dict "
                                 "{'name': ..., **params} for lrlab.schedules.make")
        self.after = after
        self.warmup_steps = check_int("warmup_steps", warmup_steps, low=1)
        self.start_lr = check_number("start_lr", start_lr, low=0, low_open=True)
        self.target_lr = after.initial_lr
        self._params = {"after": {"name": after.name, **after.params()}, "warmup_steps": self.warmup_steps,
                        "start_lr": self.start_lr}

    def _lr(self, k):
        w = self.warmup_steps
        ramp = self.start_lr + (self.target_lr - self.start_lr) * (k / w)
        return np.where(k < w, ramp, self.after(np.maximum(k - w, 0)))

    def to_keras(self):
        if isinstance(self.after, Cosine):
            return twins.keras_schedules().CosineDecay(self.start_lr, self.after.decay_steps, alpha=self.after.alpha,
                                                  warmup_target=self.target_lr, warmup_steps=self.warmup_steps)
        return twins.keras_classes()["LinearWarmup"](after=self.after.to_keras(), warmup_steps=self.warmup_steps,
                                                 start_lr=self.start_lr, target_lr=self.target_lr)

    @property
    def _torch_base_lr(self) -> float:
        return self.target_lr

    def _torch_segments(self, optimizer, **options):
        if self.start_lr > self.target_lr:
            return [(twins.lambda_lr(self, optimizer), None)]
        ramp = twins.lr_scheduler().LinearLR(optimizer, start_factor=self.start_lr / self.target_lr, end_factor=1.0,
                                        total_iters=self.warmup_steps)
        return [(ramp, self.warmup_steps)] + self.after._torch_segments(optimizer, **options)


@register
class Cyclic(Schedule):
    """Return the cyclical LR of Smith (2017): up from ``base_lr`` to ``max_lr`` in ``step_size_up`` updates and back.

    With ``c = floor(1 + k / (2·step_size_up))`` and ``x = 1 + k / (2·step_size_up) − c``,
    ``h = 2x`` on the way up (``x <= ½``) and ``2(1 − x)`` on the way down;
    ``s(k) = base_lr + (max_lr − base_lr) · h · scale`` with ``scale`` = 1
    (``"triangular"``), ``1 / 2**(c−1)`` (``"triangular2"``, the amplitude
    halves every cycle) or ``gamma**k`` (``"exp_range"``). Seed rows: E002-4
    (triangular cyclical LR), C002-2.

    torch: native ``CyclicLR``, built with ``cycle_momentum=False`` unless
    ``to_torch(optimizer, cycle_momentum=True)`` asks for it: torch's default
    silently turns ``SGD(momentum=0)`` into momentum cycling 0.8–0.9. Keras has
    no class for it: a small ``CyclicLearningRate`` subclass.
    """

    name = "cyclic"
    seed_rows = "E002-4, C002-2"

    def __init__(self, base_lr: float, max_lr: float, step_size_up: int, mode: str = "triangular",
                 gamma: float = 1.0):
        self.base_lr = check_number("base_lr", base_lr, low=0, low_open=True)
        self.max_lr = check_number("max_lr", max_lr, low=self.base_lr, low_open=True)
        self.step_size_up = check_int("step_size_up", step_size_up, low=1)
        self.mode = check_choice("mode", mode, ("triangular", "triangular2", "exp_range"))
        self.gamma = check_number("gamma", gamma, low=0, high=1, low_open=True)
        self._params = {"base_lr": self.base_lr, "max_lr": self.max_lr, "step_size_up": self.step_size_up,
                        "mode": self.mode, "gamma": self.gamma}

    def _lr(self, k):
        total = 2.0 * self.step_size_up
        cycle = np.floor(1 + k / total)
        x = 1.0 + k / total - cycle
        h = np.where(x <= 0.5, x / 0.5, (x - 1) / (0.5 - 1))
        scale = {"triangular": np.ones_like(x), "triangular2": 1 / (2.0 ** (cycle - 1)),
                 "exp_range": np.power(self.gamma, k)}[self.mode]
        return self.base_lr + (self.max_lr - self.base_lr) * h * scale

    def to_keras(self):
        return twins.keras_classes()["CyclicLearningRate"](**self._params)

    def _torch(self, optimizer, cycle_momentum: bool = False, base_momentum: float = 0.8,
               max_momentum: float = 0.9):
        return twins.lr_scheduler().CyclicLR(optimizer, base_lr=self.base_lr, max_lr=self.max_lr,
                                        step_size_up=self.step_size_up, mode=self.mode, gamma=self.gamma,
                                        cycle_momentum=check_bool("cycle_momentum", cycle_momentum),
                                        base_momentum=base_momentum, max_momentum=max_momentum)


@register
class OneCycle(Schedule):
    """Return the one-cycle LR of Smith & Topin: from ``max_lr/div_factor`` up to ``max_lr``, then down to a tiny LR.

    With ``lo = max_lr / div_factor``, ``end = lo / final_div_factor`` and
    ``e1 = pct_start · total_steps − 1``: for ``k <= e1`` the LR anneals from
    lo to max_lr at ``pct = k / e1``, then from max_lr to end at
    ``pct = (k − e1) / (total_steps − 1 − e1)``; the anneal is
    ``to + (from − to) · ½(1 + cos(π pct))`` (``"cos"``) or
    ``from + (to − from) · pct`` (``"linear"``). After ``total_steps − 1`` the
    reference holds ``end``; torch's scheduler is defined for ``total_steps``
    updates only (it raises on the next step). ``pct_start · total_steps``
    must exceed 1: torch's ``OneCycleLR`` divides by zero when it equals 1.

    torch: native ``OneCycleLR`` with ``cycle_momentum=False`` unless asked
    (``to_torch(optimizer, cycle_momentum=True)``). Keras: a small
    ``OneCycleLearningRate`` subclass. Seed rows: E002-4 (cyclical LR family).
    """

    name = "one_cycle"
    seed_rows = "E002-4"

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, anneal_strategy: str = "cos"):
        self.max_lr = check_number("max_lr", max_lr, low=0, low_open=True)
        self.total_steps = check_int("total_steps", total_steps, low=2)
        self.pct_start = check_number("pct_start", pct_start, low=0, high=1, low_open=True, high_open=True)
        if self.pct_start * self.total_steps <= 1.0:
            raise ParameterError(f"pct_start = {pct_start!r} is not allowed with total_steps = {total_steps}; "
                                 "expected pct_start·total_steps > 1 (at exactly 1 torch's OneCycleLR divides by "
                                 "zero, below it there is no warm-up phase)")
        self.div_factor = check_number("div_factor", div_factor, low=1)
        self.final_div_factor = check_number("final_div_factor", final_div_factor, low=1)
        self.anneal_strategy = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
        self._params = {"max_lr": self.max_lr, "total_steps": self.total_steps, "pct_start": self.pct_start,
                        "div_factor": self.div_factor, "final_div_factor": self.final_div_factor,
                        "anneal_strategy": self.anneal_strategy}

    def _lr(self, k):
        k = np.minimum(k, self.total_steps - 1).astype(np.float64)
        low = self.max_lr / self.div_factor
        end = low / self.final_div_factor
        e1 = float(self.pct_start * self.total_steps) - 1
        e2 = float(self.total_steps - 1)
        rising = k <= e1
        start_lr, end_lr = np.where(rising, low, self.max_lr), np.where(rising, self.max_lr, end)
        pct = np.where(rising, k / e1, (k - e1) / (e2 - e1))
        if self.anneal_strategy == "cos":
            return end_lr + (start_lr - end_lr) / 2.0 * (np.cos(np.pi * pct) + 1)
        return (end_lr - start_lr) * pct + start_lr

    def to_keras(self):
        return twins.keras_classes()["OneCycleLearningRate"](**self._params)

    def _torch(self, optimizer, cycle_momentum: bool = False, base_momentum: float = 0.85,
               max_momentum: float = 0.95):
        return twins.lr_scheduler().OneCycleLR(optimizer, max_lr=self.max_lr, total_steps=self.total_steps,
                                          pct_start=self.pct_start, anneal_strategy=self.anneal_strategy,
                                          div_factor=self.div_factor, final_div_factor=self.final_div_factor,
                                          cycle_momentum=check_bool("cycle_momentum", cycle_momentum),
                                          base_momentum=base_momentum, max_momentum=max_momentum)
