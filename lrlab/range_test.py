"""The learning-rate range test, free of any framework: ramp, smoothing, stop rule, suggestions.

Seed rows: E002-1 (sweep the LR over a wide range in one short run, plot the
loss against the LR, take the region of steepest descent), E004-2 (the
epoch-wise variant: raise the LR after every epoch), C001-2 (the range test as a
tuning tip, with a linear or a logarithmic increase). L. N. Smith (WACV 2017,
arXiv:1506.01186) introduced the test with a linear ramp; fastai's ``lr_find``
(``fastai/callback/schedule.py``) made the exponential ramp with a smoothed
loss and an early stop the common form. The backends' ``lr_range_test``
(:func:`lrlab.tf.lr_range_test`, :func:`lrlab.torch.lr_range_test`) build the
model's trainer and call :func:`run`; everything that decides *what* the test
does is here:

* the ramp (:func:`ramp`) is an lrlab schedule, so each framework runs it with
  its native scheduler: ``"exp"`` is ``exponential(start, N−1, end/start)``,
  ``lr_i = start·(end/start)^(i/(N−1))``; ``"linear"`` is
  ``polynomial(start, N−1, end, power=1)``, ``lr_i = start + (end−start)·i/(N−1)``;
* the smoothed loss (:func:`smooth`) is the bias-corrected exponential moving
  average ``a_i = β·a_{i−1} + (1−β)·L_i`` (``a_{−1} = 0``), ``S_i = a_i/(1−β^{i+1})``;
* the stop rule (:func:`stop_index`): stop after iteration i when ``S_i`` is not
  finite or ``S_i > k·min_{j≤i} S_j``;
* the suggestions (:func:`suggest`), computed on ``S`` over the iterations
  ``[skip_start, n − skip_end)``: ``valley``, ``slide``, ``minimum``, ``steep``.

**Defaults and how they compare with fastai's ``lr_find``** (start 1e-7, end
10, 100 iterations, exponential, β = 0.98, stop at 4× the best; suggestions
valley (its default), slide, minimum, steep; suggestions read the recorded
points ``[num_it//10 : −5]``). lrlab uses the same defaults and the same four
suggestion rules, and differs in these places, each a deliberate choice:

1. *Ramp end points.* fastai sets ``lr_i = start·(end/start)^(i/N)``, so its
   last LR is ``start·(end/start)^((N−1)/N)`` (8.3 with the defaults), never
   ``end``; lrlab's ramp goes from ``start`` to exactly ``end``. fastai has no
   linear ramp; lrlab offers Smith's linear one (C001-2).
2. *Non-finite losses.* fastai's stop test ``S > 4·best`` is false for NaN, so a
   NaN loss does not stop it (its suggestions drop everything from the first NaN);
   lrlab stops at the first non-finite smoothed loss.
3. *State after the test.* fastai saves model and optimizer to a file and loads
   them back; lrlab keeps a numpy copy of the weights and loads it back (the
   optimizer is built for the test and discarded). Either way the model is
   exactly as before.
4. *Batches.* fastai's training loader reshuffles each epoch and drops the last
   partial batch; lrlab cuts lrlab's seeded per-epoch permutation
   (:func:`lrlab.training.epoch_orders`) into full batches, so both frameworks
   see the same batches in the same order.
5. *Unit.* ``unit="epoch"`` (E004-2) holds each LR for a whole epoch and records
   the epoch's mean loss; fastai only ramps per batch.
6. *Validation.* Given ``val``, lrlab also records the validation loss and
   metric after every iteration (Smith read the range off validation accuracy);
   fastai skips validation during ``lr_find``.
7. *Divergence.* The stop rule above is fastai's convention for *this* test
   (relative to the best smoothed loss so far, so it reacts to the climb at the
   end of the ramp). Next to it every iteration is also judged by lrlab's one
   divergence rule, the one ``fit`` and ``fit_many`` use
   (:func:`lrlab.training.is_diverged`: a loss that is not finite or above
   :data:`lrlab.training.DIVERGENCE_FACTOR` = 10 times the initial loss, the
   mean training loss at the model's weights before the test): the history's
   ``diverged`` column, and :attr:`RangeTest.diverged_lr`, the LR of the first
   iteration it flags. The two rules answer different questions and need not
   agree: since the smoothed loss starts at about the initial loss, the 4x stop
   usually comes first, and ``diverged_lr`` is NaN for a test that stopped
   before any loss exploded.

The suggestion rules (same as fastai's, on the trimmed, finite part of ``S``,
with ``x_i = log lr_i``):

* ``steep`` — the LR at the start of the steepest descent: ``lr_i`` with ``i =
  argmin_i (S_{i+1} − S_i)/(x_{i+1} − x_i)`` (E002-1's "region of steepest descent").
* ``minimum`` — the LR of the lowest smoothed loss, divided by 10.
* ``valley`` — let ``D_i`` be the length of the longest strictly decreasing
  subsequence of ``S`` that ends at i, ``e`` the first index of the largest
  ``D``, ``s = e − D_e`` and ``d = (e − s)/3``: ``lr`` at ``s + ⌊d⌋ + ⌊d/2⌋``,
  about halfway down the longest valley.
* ``slide`` — with ``g = np.gradient(S)`` (per iteration), walk a pair of
  points ``lr_diff = 15`` iterations apart from the end of the curve towards its
  start while ``|g_right − g_left| > thresh = 0.005``; suggest the left LR of the
  last pair that still differed (of the first pair if none did). ``thresh`` is
  in loss units, so this rule depends on the loss's scale.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lrlab import schedules, training
from lrlab.params import ParameterError, check_choice, check_int, check_number

__all__ = [
    "FASTAI_DEFAULTS",
    "RangeTest",
    "RangeTestPlan",
    "SUGGESTIONS",
    "Smoother",
    "check_range_test",
    "minimum",
    "prepare",
    "ramp",
    "run",
    "slide",
    "smooth",
    "steep",
    "stop_index",
    "suggest",
    "valley",
]

#: fastai ``lr_find``'s defaults (``fastai/callback/schedule.py``), which are lrlab's
FASTAI_DEFAULTS = {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100, "mode": "exp", "beta": 0.98,
                   "stop_factor": 4.0}


# ----------------------------------------------------------------------------------------
# the ramp, the smoothed loss, the stop rule
# ----------------------------------------------------------------------------------------
def ramp(start_lr: float, end_lr: float, num_it: int, mode: str = "exp") -> schedules.Schedule:
    """Return the ramp as an lrlab schedule: ``s(0) = start_lr`` rising to ``s(num_it − 1) = end_lr``.

    ``mode="exp"``: ``s(i) = start·(end/start)^(i/(num_it−1))`` (equal steps in
    log LR; ``make("exponential", ...)`` with ``decay_rate = end/start > 1``);
    ``mode="linear"``: ``s(i) = start + (end − start)·i/(num_it − 1)``
    (``make("polynomial", ..., power=1)``), Smith's original ramp.

    >>> ramp(1e-4, 1.0, 5)
    make('exponential', initial_lr=0.0001, decay_steps=4, decay_rate=10000.0, staircase=False)
    >>> np.round(ramp(1e-4, 1.0, 5)(np.arange(5)), 6).tolist()         # a decade per iteration
    [0.0001, 0.001, 0.01, 0.1, 1.0]
    >>> np.round(ramp(0.1, 0.5, 5, mode="linear")(np.arange(5)), 6).tolist()
    [0.1, 0.2, 0.3, 0.4, 0.5]
    """
    start_lr = check_number("start_lr", start_lr, low=0, low_open=True)
    end_lr = check_number("end_lr", end_lr, low=0, low_open=True)
    if end_lr <= start_lr:
        raise ParameterError(f"end_lr = {end_lr!r} is not allowed; expected a number > start_lr = {start_lr!r}")
    num_it = check_int("num_it", num_it, low=2)
    mode = check_choice("mode", mode, ("exp", "linear"))
    if mode == "exp":
        return schedules.make("exponential", initial_lr=start_lr, decay_steps=num_it - 1,
                              decay_rate=end_lr / start_lr)
    return schedules.make("polynomial", initial_lr=start_lr, decay_steps=num_it - 1, end_lr=end_lr, power=1.0)


class Smoother:
    """The smoothed loss and the stop rule, one iteration at a time (what :func:`run` and :func:`smooth` share).

    ``add(L_i)`` returns ``(S_i, stop)``: the bias-corrected moving average
    ``S_i = a_i / (1 − β^{i+1})``, ``a_i = β·a_{i−1} + (1−β)·L_i``, ``a_{−1} = 0``,
    and whether the test stops after iteration i: ``S_i`` is not finite, or
    ``S_i > stop_factor · min_{j≤i} S_j`` (no factor: only non-finite values stop it).
    """

    def __init__(self, beta: float = 0.98, stop_factor: float | None = 4.0):
        self.beta, self.stop_factor = beta, stop_factor
        self.average, self.count, self.best = 0.0, 0, math.inf

    def add(self, loss: float) -> tuple[float, bool]:
        self.count += 1
        with np.errstate(invalid="ignore", over="ignore"):
            self.average = self.beta * self.average + (1 - self.beta) * float(loss)
            smoothed = float(self.average / (1 - self.beta ** self.count))
        if not math.isfinite(smoothed):
            return smoothed, True
        self.best = min(self.best, smoothed)
        return smoothed, self.stop_factor is not None and smoothed > self.stop_factor * self.best


def smooth(losses, beta: float = 0.98) -> np.ndarray:
    """Return the bias-corrected moving average of ``losses`` (see :class:`Smoother`).

    The correction makes ``S_0 = L_0`` and removes the pull towards 0 of the
    early averages; ``beta = 0`` returns the losses unchanged. A non-finite
    loss makes every later value non-finite.

    >>> smooth([1.0, 0.5, 0.25], beta=0.5).round(4).tolist()  # S_1 = (0.25·1 + 0.5·0.5)/(1 − 0.5²)
    [1.0, 0.6667, 0.4286]
    """
    smoother = Smoother(check_number("beta", beta, low=0, high=1, high_open=True), None)
    return np.array([smoother.add(loss)[0] for loss in np.asarray(losses, dtype=np.float64)], dtype=np.float64)


def stop_index(losses, beta: float = 0.98, stop_factor: float | None = 4.0) -> int | None:
    """Return the iteration after which a test with these ``losses`` stops, or None if it reaches the ramp's end.

    The test stops after iteration i when the smoothed loss ``S_i`` is not
    finite, or (unless ``stop_factor`` is None) when ``S_i > stop_factor ·
    min_{j≤i} S_j`` (:class:`Smoother`).

    >>> stop_index([2.3, 2.2, 1.9, 1.2, 0.9, 1.4, 6.0], beta=0.0)  # 6.0 > 4 × 0.9: stops after iteration 6
    6
    >>> stop_index([2.3, 2.2, 1.9, 1.2, 0.9, 1.4, 6.0], beta=0.5) is None  # smoothed, 6.0 is not enough
    True
    """
    smoother = Smoother(check_number("beta", beta, low=0, high=1, high_open=True), stop_factor)
    for i, loss in enumerate(np.asarray(losses, dtype=np.float64)):
        if smoother.add(loss)[1]:
            return i
    return None


# ----------------------------------------------------------------------------------------
# suggestions
# ----------------------------------------------------------------------------------------
def steep(lrs, losses) -> float:
    """Return the LR where the loss falls fastest per unit of log LR (the left end of the steepest segment)."""
    lrs, losses = np.asarray(lrs, dtype=np.float64), np.asarray(losses, dtype=np.float64)
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[int(np.argmin(slopes))])


def minimum(lrs, losses) -> float:
    """Return the LR of the lowest loss, divided by 10."""
    return float(np.asarray(lrs, dtype=np.float64)[int(np.argmin(losses))] / 10)


def valley(lrs, losses) -> float:
    """Return the LR about halfway down the longest valley: the longest strictly decreasing subsequence of the loss.

    ``D_i`` = length of the longest strictly decreasing subsequence ending at i;
    ``e`` = first argmax of ``D``; ``s = e − D_e``; ``d = (e − s)/3``; the LR at
    index ``s + ⌊d⌋ + ⌊d/2⌋``.
    """
    lrs, losses = np.asarray(lrs, dtype=np.float64), np.asarray(losses, dtype=np.float64)
    longest = np.ones(len(losses), dtype=np.int64)
    for i in range(1, len(losses)):
        before = longest[:i][losses[:i] > losses[i]]
        if before.size:
            longest[i] = before.max() + 1
    end = int(np.argmax(longest))
    start = end - int(longest[end])
    third = (end - start) / 3
    return float(lrs[start + int(third) + int(third / 2)])


def slide(lrs, losses, lr_diff: int = 15, thresh: float = 0.005) -> float:
    """Return the LR where the loss curve's slope stops changing, walking leftwards from the end (fastai's rule).

    A pair of points ``lr_diff`` iterations apart moves from the end of the curve
    towards its start while their slopes (``np.gradient`` per iteration) differ
    by more than ``thresh``; the suggestion is the left LR of the last pair that
    differed, or of the first pair if none did.
    """
    lrs, losses = np.asarray(lrs, dtype=np.float64), np.asarray(losses, dtype=np.float64)
    n = len(losses)
    if n <= lr_diff:
        raise ParameterError(f"slide needs more than lr_diff = {lr_diff} points; got {n}")
    grad = np.gradient(losses)
    right, left = n - 1, n - 1 - lr_diff
    chosen = lrs[left]
    while left >= 0 and abs(grad[right] - grad[left]) > thresh:
        chosen = lrs[left]
        right, left = right - 1, left - 1
    return float(chosen)


#: suggestion name -> rule, in the order they are reported
SUGGESTIONS = {"valley": valley, "slide": slide, "minimum": minimum, "steep": steep}


def suggest(lrs, smoothed, skip_start: int = 10, skip_end: int = 5) -> dict:
    """Return ``{name: LR}`` of every rule in :data:`SUGGESTIONS`, on ``smoothed`` cut to ``[skip_start, n−skip_end)``.

    The trimmed curve is cut again at its first non-finite value. A rule that
    has too few points left (fewer than 2; ``slide`` needs more than 15) gives
    NaN instead of an LR.

    >>> lrs = ramp(1e-3, 1.0, 7)(np.arange(7))
    >>> np.round(lrs, 4).tolist()
    [0.001, 0.0032, 0.01, 0.0316, 0.1, 0.3162, 1.0]
    >>> losses = [2.3, 2.2, 1.9, 1.2, 0.9, 1.4, 6.0]
    >>> {name: round(lr, 4) for name, lr in suggest(lrs, losses, skip_start=0, skip_end=0).items()}
    {'valley': 0.001, 'slide': nan, 'minimum': 0.01, 'steep': 0.01}
    """
    lrs, smoothed = np.asarray(lrs, dtype=np.float64), np.asarray(smoothed, dtype=np.float64)
    lrs, smoothed = lrs[skip_start:len(lrs) - skip_end], smoothed[skip_start:len(smoothed) - skip_end]
    bad = np.flatnonzero(~np.isfinite(smoothed))
    if bad.size:
        lrs, smoothed = lrs[:bad[0]], smoothed[:bad[0]]
    out = {}
    for name, rule in SUGGESTIONS.items():
        try:
            out[name] = rule(lrs, smoothed) if len(smoothed) >= 2 else math.nan
        except ParameterError:
            out[name] = math.nan
    return out


# ----------------------------------------------------------------------------------------
# the test
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RangeTestPlan:
    """Everything a range test was asked to do, checked (see :func:`check_range_test`)."""

    optimizer: training.OptimizerSpec
    start_lr: float
    end_lr: float
    num_it: int
    mode: str
    unit: str
    beta: float
    stop_factor: float | None
    skip_start: int
    skip_end: int

    @property
    def schedule(self) -> schedules.Schedule:
        """Return the ramp (the LR schedule of the optimizer)."""
        return self.optimizer.lr

    def settings(self) -> dict:
        """Return the test's settings as a JSON-able dict."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if k != "optimizer"}
        return {"optimizer": self.optimizer.name, **self.optimizer.hyper, **out}


def check_range_test(optimizer, *, start_lr, end_lr, num_it, mode, unit, beta, stop_factor, skip_start=None,
                     skip_end=None) -> RangeTestPlan:
    """Return the :class:`RangeTestPlan` of an ``lr_range_test`` call after checking every argument.

    ``optimizer`` is an optimizer name (``"sgd"``, ``"momentum"``, …) or a
    backend's ``optimizer(name, lr, ...)``, whose hyperparameters are kept and
    whose LR is replaced by the ramp. ``skip_start`` / ``skip_end`` default to
    fastai's ``num_it // 10`` and 5.
    """
    schedule = ramp(start_lr, end_lr, num_it, mode)
    if isinstance(optimizer, training.OptimizerSpec):
        spec = dataclasses.replace(optimizer, lr=schedule)
    elif isinstance(optimizer, str):
        spec = training.check_optimizer(optimizer, schedule)
    else:
        raise ParameterError(f"optimizer = {optimizer!r} is not allowed; expected an optimizer name such as "
                             "'sgd' or the backend's optimizer(name, lr, ...)")
    if stop_factor is not None:
        stop_factor = check_number("stop_factor", stop_factor, low=1, low_open=True)
    skip_start = num_it // 10 if skip_start is None else check_int("skip_start", skip_start, low=0)
    skip_end = 5 if skip_end is None else check_int("skip_end", skip_end, low=0)
    return RangeTestPlan(spec, float(start_lr), float(end_lr), int(num_it), mode,
                         check_choice("unit", unit, ("step", "epoch")),
                         check_number("beta", beta, low=0, high=1, high_open=True), stop_factor, skip_start, skip_end)


def prepare(spec: training.MLPSpec, train, val, *, optimizer, loss, metric, start_lr, end_lr, num_it, mode, unit,
            batch_size, beta, stop_factor, seed) -> tuple[training.FitPlan, RangeTestPlan]:
    """Return ``(fit plan, range-test plan)`` of a backend's ``lr_range_test`` call, every argument checked."""
    plan = check_range_test(optimizer, start_lr=start_lr, end_lr=end_lr, num_it=num_it, mode=mode, unit=unit,
                            beta=beta, stop_factor=stop_factor)
    fit_plan = training.check_fit(spec, plan.optimizer, train, val, loss=loss, metric=metric, epochs=0,
                                  batch_size=batch_size, schedule_unit=unit, callbacks=(), seed=seed, shuffle=True)
    return fit_plan, plan


@dataclass
class RangeTest:
    """The result of a range test: its history, why it stopped, and the suggested LRs.

    ``history`` has one row per iteration (an update, or an epoch with
    ``unit="epoch"``): ``iteration``, ``lr`` (the LR that iteration's updates
    used), ``loss`` (the batch's loss before its update, or the epoch's mean),
    the metric, ``smooth_loss``, with validation data ``val_loss`` and
    ``val_<metric>`` (after the iteration), and ``diverged`` (lrlab's one
    divergence rule, :func:`lrlab.training.is_diverged`, on that iteration's
    loss). ``initial_loss`` is the mean training loss at the weights before the
    test; ``diverged_lr`` the LR of the first iteration flagged diverged (NaN
    if none was).
    """

    history: pd.DataFrame
    stop_reason: str
    suggestions: dict
    settings: dict = field(default_factory=dict)
    initial_loss: float = math.nan
    diverged_lr: float = math.nan

    def suggestion(self, name: str = "valley") -> float:
        """Return the LR suggested by rule ``name`` (``valley``, fastai's default, unless told otherwise)."""
        return self.suggestions[check_choice("name", name, tuple(SUGGESTIONS))]

    def suggest(self, skip_start: int = 0, skip_end: int = 0) -> dict:
        """Return ``{name: LR}`` recomputed on this history trimmed otherwise (e.g. an epoch-wise test's few points)."""
        return suggest(self.history["lr"], self.history["smooth_loss"], check_int("skip_start", skip_start, low=0),
                       check_int("skip_end", skip_end, low=0))


def _orders(plan, fit_plan):
    """Yield the row indices of each iteration: one full batch (``unit="step"``) or one epoch's permutation."""
    n = len(fit_plan.x)
    if plan.unit == "epoch":
        yield from training.epoch_orders(n, plan.num_it, fit_plan.seed, fit_plan.shuffle)
        return
    size = fit_plan.batch_size
    per_epoch = n // size
    epochs = -(-plan.num_it // per_epoch)
    count = 0
    for order in training.epoch_orders(n, epochs, fit_plan.seed, fit_plan.shuffle):
        for b in range(per_epoch):
            if count == plan.num_it:
                return
            yield order[b * size:(b + 1) * size]
            count += 1


def run(trainer, fit_plan: training.FitPlan, plan: RangeTestPlan) -> RangeTest:
    """Return the :class:`RangeTest` of ``trainer`` run along the ramp; the trainer's weights are restored.

    ``trainer`` is a backend's ``fit`` trainer built with ``plan.optimizer``
    (whose LR is the ramp) and a ``fit_plan`` with ``schedule_unit =
    plan.unit``. Each iteration calls ``trainer.train_epoch(order)`` on one
    batch of rows (or one epoch), evaluates the validation data if there is
    any, then ``trainer.end_epoch()``; after recording the iteration, the stop
    rule (:func:`stop_index`) may end the test. The weights the model had
    before the test are loaded back at the end, also after an exception.
    """
    if plan.unit == "step" and len(fit_plan.x) < fit_plan.batch_size:
        raise ParameterError(f"batch_size = {fit_plan.batch_size} is not allowed; the training data has only "
                             f"{len(fit_plan.x)} rows")
    metric, smoother = fit_plan.metric, Smoother(plan.beta, plan.stop_factor)
    saved = trainer.weights()
    start = training.initial_loss(trainer.spec, saved, fit_plan.x, fit_plan.y, fit_plan.loss)
    rows, reason = [], "end of the ramp"
    try:
        for i, order in enumerate(_orders(plan, fit_plan)):
            loss, value, lr = trainer.train_epoch(order)
            smoothed, stop = smoother.add(loss)
            row = {"iteration": i, "lr": lr, "loss": loss, **({metric: value} if metric else {}),
                   "smooth_loss": smoothed}
            if fit_plan.val is not None:
                val_loss, val_value = trainer.evaluate(*fit_plan.val) if math.isfinite(loss) else (math.nan,) * 2
                row.update({"val_loss": val_loss, **({f"val_{metric}": val_value} if metric else {})})
            row["diverged"] = training.is_diverged(loss, start)
            rows.append(row)
            trainer.end_epoch()
            if stop:
                reason = ("the loss was not finite" if not math.isfinite(smoothed)
                          else f"the smoothed loss exceeded {plan.stop_factor:g}x its minimum")
                break
    finally:
        trainer.set_weights(saved)
    history = pd.DataFrame(rows)
    suggestions = suggest(history["lr"], history["smooth_loss"], plan.skip_start, plan.skip_end)
    flagged = history.index[history["diverged"]] if len(history) else []
    diverged_lr = float(history["lr"][flagged[0]]) if len(flagged) else math.nan
    return RangeTest(history, reason, suggestions, plan.settings(), start, diverged_lr)
