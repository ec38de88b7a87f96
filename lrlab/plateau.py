"""Reduce-on-plateau: lrlab's one documented rule, and drivers for Keras's and torch's native rules.

Seed rows: E000-3 (performance-based decay), E002-5 (Keras ``ReduceLROnPlateau``
on the validation loss, and its PyTorch counterpart).

Reduce-on-plateau depends on a metric, so it is not a schedule but a callback.
Keras and PyTorch ship one each, and they differ (read with Keras 3.15.1 and
torch 2.13.0; ``/work/shared/schedule-semantics.md`` §3, §5):

=====================  ==================================  ====================================
                       Keras ``ReduceLROnPlateau``         torch ``ReduceLROnPlateau``
=====================  ==================================  ====================================
patience p             cut when ``wait >= p``: p=0 ≡ p=1   cut when ``num_bad > p``: p bad
                                                           epochs are tolerated, the p+1-th cuts
cooldown c             decremented *before* counting, so   c epochs after a cut are ignored
                       c=1 ≡ c=0 (c−1 epochs ignored)
threshold              ``min_delta``, absolute (1e-4)      ``threshold`` 1e-4, *relative* by
                                                           default: ``a < best·(1−t)``, which is
                                                           inverted for negative metrics
small LRs              reduces while ``lr > min_lr``       reduces only if ``old − new > eps``
                                                           (eps=1e-8): LRs ≲ 1e-8 never fall
first epoch / NaN      the first value is "best" even if   NaN is never an improvement
                       NaN; then nothing improves on it
LR precision           float32 variable                    Python float (float64)
=====================  ==================================  ====================================

:class:`PlateauRule` is lrlab's rule, the one both backends' ``ReduceLROnPlateau``
callbacks apply (``lrlab.tf`` and ``lrlab.torch`` wrap it, so the two frameworks
cut the LR at the same epochs). It counts like torch (every value of
``patience`` and ``cooldown`` means something different), compares like Keras
(absolute ``threshold`` by default, so negative metrics work), has no ``eps``
(torch with ``eps=0``), treats NaN as "no improvement" and never raises the LR.
With ``threshold_mode="rel"`` the margin is ``threshold·|best|``, which is
torch's rule for positive metrics and the right way round for negative ones.

The drivers :func:`keras_lrs` and :func:`torch_lrs` feed a metric sequence to
the *native* callbacks; :func:`keras_kwargs` and :func:`torch_kwargs` give the
native arguments that reproduce a :class:`PlateauRule` (exactly for torch;
for Keras up to the first-epoch NaN case and float32 rounding of the LR).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import warnings

import numpy as np

from lrlab.params import ParameterError, check_choice, check_int, check_number

__all__ = ["PlateauRule", "keras_kwargs", "keras_lrs", "rule_lrs", "torch_kwargs", "torch_lrs"]


class PlateauRule:
    """lrlab's reduce-on-plateau rule: ``step(metric, lr)`` returns the LR for the next epoch.

    Once per epoch, with the monitored metric ``m`` and the LR ``lr`` in force:

    1. *improvement* when ``m < best − δ`` (mode ``"min"``) or ``m > best + δ``
       (``"max"``), with ``δ = threshold`` (``"abs"``, the default) or
       ``threshold·|best|`` (``"rel"``); NaN never improves. An improvement sets
       ``best = m`` and ``num_bad_epochs = 0``, otherwise ``num_bad_epochs += 1``;
    2. during cooldown (``cooldown_counter > 0``) the counter is decremented and
       ``num_bad_epochs`` reset to 0: the ``cooldown`` epochs after a cut never count;
    3. when ``num_bad_epochs > patience`` the LR becomes ``max(lr·factor, min_lr)``
       (left as is if ``lr <= min_lr``), ``cooldown_counter = cooldown`` and
       ``num_bad_epochs = 0``.

    So ``patience=p`` tolerates p epochs without improvement and cuts at the
    (p+1)-th (torch's counting; Keras's ``patience=p+1``), and ``cooldown=c``
    ignores exactly c epochs after a cut (Keras's ``cooldown=c+1``).

    >>> rule = PlateauRule(factor=0.5, patience=1)
    >>> lr = 0.1
    >>> for val_loss in [1.0, 0.9, 0.9, 0.9, 0.8]:
    ...     lr = rule.step(val_loss, lr)
    ...     print(val_loss, lr, rule.num_bad_epochs)
    1.0 0.1 0
    0.9 0.1 0
    0.9 0.1 1
    0.9 0.05 0
    0.8 0.05 0
    >>> keras_kwargs(rule)["patience"], torch_kwargs(rule)["patience"]  # the same rule, each one's counting
    (2, 1)
    """

    def __init__(self, *, mode: str = "min", factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "abs", cooldown: int = 0, min_lr: float = 0.0):
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.factor = check_number("factor", factor, low=0, high=1, low_open=True, high_open=True)
        self.patience = check_int("patience", patience, low=0)
        self.threshold = check_number("threshold", threshold, low=0)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("abs", "rel"))
        self.cooldown = check_int("cooldown", cooldown, low=0)
        self.min_lr = check_number("min_lr", min_lr, low=0)
        self.reset()

    def reset(self) -> None:
        """Forget the history: ``best`` = ±inf, no bad epochs, no cooldown."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def params(self) -> dict:
        """Return the rule's parameters (the keyword arguments that rebuild it)."""
        return {"mode": self.mode, "factor": self.factor, "patience": self.patience, "threshold": self.threshold,
                "threshold_mode": self.threshold_mode, "cooldown": self.cooldown, "min_lr": self.min_lr}

    def __repr__(self) -> str:
        return "PlateauRule(" + ", ".join(f"{k}={v!r}" for k, v in self.params().items()) + ")"

    def is_improvement(self, metric: float) -> bool:
        """Return whether ``metric`` improves on ``best`` by more than the threshold."""
        if math.isnan(metric):
            return False
        if math.isinf(self.best):
            return metric < self.best if self.mode == "min" else metric > self.best
        margin = self.threshold if self.threshold_mode == "abs" else self.threshold * abs(self.best)
        return metric < self.best - margin if self.mode == "min" else metric > self.best + margin

    def step(self, metric: float, lr: float) -> float:
        """Return the LR for the next epoch, given this epoch's ``metric`` and the ``lr`` in force during it."""
        if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
            try:
                metric = float(np.asarray(metric).item())
            except (TypeError, ValueError):
                raise ParameterError(f"metric = {metric!r} is not allowed; expected a real number (NaN allowed)") \
                    from None
        metric = float(metric)
        lr = check_number("lr", lr, low=0)
        if self.is_improvement(metric):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            if lr > self.min_lr:
                lr = max(lr * self.factor, self.min_lr)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return lr


def _metrics(metrics) -> list[float]:
    values = np.asarray(metrics, dtype=np.float64).ravel()
    if values.size == 0:
        raise ParameterError(f"metrics = {metrics!r} is not allowed; expected a non-empty sequence of numbers")
    return [float(v) for v in values]


def rule_lrs(rule: PlateauRule, metrics, lr: float) -> np.ndarray:
    """Return the LR after each epoch when ``rule`` (reset first) sees ``metrics``, starting from ``lr``.

    Element e is the LR set after epoch e's metric, i.e. the LR of epoch e + 1.

    >>> losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    >>> rule_lrs(PlateauRule(factor=0.5, patience=1), losses, 0.1).tolist()
    [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    >>> rule_lrs(PlateauRule(factor=0.5, patience=1, cooldown=1), losses, 0.1).tolist()  # one epoch ignored
    [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    """
    rule.reset()
    lr = check_number("lr", lr, low=0, low_open=True)
    out = []
    for metric in _metrics(metrics):
        lr = rule.step(metric, lr)
        out.append(lr)
    return np.array(out)


def keras_kwargs(rule: PlateauRule) -> dict:
    """Return the arguments of Keras's native ``ReduceLROnPlateau`` that apply ``rule``.

    ``patience + 1`` and ``cooldown + 1`` (Keras counts one less), ``min_delta =
    threshold``. Keras has only an absolute threshold: a ``"rel"`` rule raises
    ParameterError. Remaining differences: a NaN first epoch, float32 LRs.
    """
    if rule.threshold_mode != "abs":
        raise ParameterError(f"threshold_mode = {rule.threshold_mode!r} is not allowed; expected 'abs' "
                             "(Keras's ReduceLROnPlateau has only an absolute min_delta)")
    return {"mode": rule.mode, "factor": rule.factor, "patience": rule.patience + 1, "min_delta": rule.threshold,
            "cooldown": rule.cooldown + 1, "min_lr": rule.min_lr}


def torch_kwargs(rule: PlateauRule) -> dict:
    """Return the arguments of torch's native ``ReduceLROnPlateau`` that apply ``rule`` (``eps=0``).

    Exact for ``"abs"`` rules and for ``"rel"`` rules on positive metrics (torch's
    relative margin ``best·threshold`` has the wrong sign when ``best < 0``).
    """
    return {"mode": rule.mode, "factor": rule.factor, "patience": rule.patience, "threshold": rule.threshold,
            "threshold_mode": rule.threshold_mode, "cooldown": rule.cooldown, "min_lr": rule.min_lr, "eps": 0.0}


@contextlib.contextmanager
def _quiet_keras_lr_reads():
    """Hide the DeprecationWarning Keras 3.15's callbacks raise reading their LR variable.

    (``backend.convert_to_numpy`` goes through numpy 2's deprecated ``__array__``
    path; the value read is right, and strict nbval would compare the warning.)
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
        yield


class _OptimizerHolder:
    """The one attribute of a Keras model that ``ReduceLROnPlateau`` uses: ``optimizer``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer


def keras_lrs(metrics, lr: float, **kwargs) -> np.ndarray:
    """Return the LR after each epoch when Keras's native ``ReduceLROnPlateau(**kwargs)`` sees ``metrics``.

    Drives ``keras.callbacks.ReduceLROnPlateau`` (``monitor="val_loss"``) over a
    Keras ``SGD(lr)`` optimizer: ``on_train_begin``, then ``on_epoch_end`` once
    per metric. The LRs are read back from the optimizer (float32 variable).
    """
    from lrlab.determinism import configure_tensorflow

    configure_tensorflow()
    import keras

    lr = check_number("lr", lr, low=0, low_open=True)
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kwargs)
    optimizer = keras.optimizers.SGD(learning_rate=lr)
    callback.set_model(_OptimizerHolder(optimizer))
    callback.on_train_begin()
    out = []
    with _quiet_keras_lr_reads():
        for epoch, metric in enumerate(_metrics(metrics)):
            callback.on_epoch_end(epoch, {"val_loss": metric})
            out.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    return np.array(out)


def torch_lrs(metrics, lr: float, **kwargs) -> np.ndarray:
    """Return the LR after each epoch when torch's native ``ReduceLROnPlateau(**kwargs)`` sees ``metrics``.

    Drives ``torch.optim.lr_scheduler.ReduceLROnPlateau`` over ``SGD(lr)`` on a
    dummy parameter: ``scheduler.step(metric)`` once per metric.
    """
    from lrlab.determinism import configure_torch

    torch = configure_torch()
    lr = check_number("lr", lr, low=0, low_open=True)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    out = []
    for metric in _metrics(metrics):
        scheduler.step(metric)
        out.append(float(optimizer.param_groups[0]["lr"]))
    return np.array(out)
