"""The callbacks of ``fit``, written once for both backends (C001-2, E000-3, E002-5).

``lrlab.tf`` and ``lrlab.torch`` export these same classes, so a callback
behaves identically in both frameworks. A callback sees the backend's trainer
only through a few framework-free calls: ``weights()`` / ``set_weights(w)``
(numpy snapshots), ``save(path)`` (the framework's native model file, written
atomically), the ``lr`` property (read and set the LR of the next update) and
``stop_training``.

* :class:`EarlyStopping` — stop when the monitored value has not improved for
  ``patience`` epochs, then restore the best weights (Keras's rule; lrlab's
  defaults are ``patience=10`` and ``restore_best_weights=True``, Keras's 0 and False).
* :class:`ModelCheckpoint` — save the best model so far to a file.
* :class:`ReduceLROnPlateau` — lrlab's one plateau rule,
  :class:`lrlab.plateau.PlateauRule`, applied to the optimizer's LR.
"""

from __future__ import annotations

import math
import os

from lrlab.params import ParameterError, check_bool, check_choice, check_int, check_number
from lrlab.plateau import PlateauRule

__all__ = ["BestValueCallback", "Callback", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau"]


class Callback:
    """Base class: hooks called by ``fit`` (``on_train_begin``, ``on_epoch_end``, ``on_train_end``)."""

    monitor = None

    def on_train_begin(self, trainer, available) -> None:
        """Check the monitored column exists (``available`` lists the history's value columns)."""
        if self.monitor is not None and self.monitor not in available:
            raise ParameterError(f"monitor = {self.monitor!r} is not allowed for this fit; expected one of "
                                 + ", ".join(repr(a) for a in available))

    def on_epoch_end(self, trainer, logs: dict) -> None:
        """Act on the finished epoch's ``logs`` (one history row)."""

    def on_train_end(self, trainer) -> None:
        """Act once after the last epoch (also after a diverged one)."""


def _check_monitor(monitor: str, mode: str) -> tuple[str, str]:
    if not isinstance(monitor, str) or not monitor:
        raise ParameterError(f"monitor = {monitor!r} is not allowed; expected a history column such as 'val_loss'")
    mode = check_choice("mode", mode, ("auto", "min", "max"))
    if mode == "auto":
        mode = "max" if monitor.endswith("accuracy") else "min"
    return monitor, mode


class _Best:
    """The best value of a monitored column so far, and whether a new value beats it by ``min_delta``."""

    def __init__(self, mode: str, min_delta: float = 0.0):
        self.mode, self.min_delta = mode, min_delta
        self.value, self.epoch = math.nan, None

    def improves(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.epoch is None:
            return True
        return value < self.value - self.min_delta if self.mode == "min" else value > self.value + self.min_delta

    def update(self, value: float, epoch: int) -> None:
        self.value, self.epoch = value, epoch


class BestValueCallback(Callback):
    """Base of :class:`EarlyStopping` and :class:`ModelCheckpoint`: follows the best value of ``monitor``.

    ``best`` is the best value so far (NaN before the first epoch) and
    ``best_epoch`` the epoch that reached it (None before the first epoch); an
    epoch is a new best when its value beats ``best`` by more than the
    subclass's ``min_delta`` (0 for the checkpoint), in the direction of ``mode``.
    """

    _best: _Best

    @property
    def best_epoch(self):
        return self._best.epoch

    @property
    def best(self):
        return self._best.value

    def _improved(self, logs) -> bool:
        """Return whether this epoch's ``monitor`` value is a new best, and record it if so."""
        value = float(logs[self.monitor])
        if not self._best.improves(value):
            return False
        self._best.update(value, logs["epoch"])
        return True


class EarlyStopping(BestValueCallback):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Keras's rule: an epoch improves when its value beats the best by more than
    ``min_delta``; after ``patience`` epochs in a row without improvement the
    run stops (``patience=0``: at the first epoch that does not improve;
    Keras's default, lrlab's is 10). With ``restore_best_weights`` (the
    default here; Keras's is False) the model
    ends with the weights of its best epoch, also when the run ends without
    stopping early or diverges. ``best_epoch``, ``best`` and ``stopped_epoch``
    are kept for the book.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0, *,
                 restore_best_weights: bool = True, mode: str = "auto"):
        self.monitor, self.mode = _check_monitor(monitor, mode)
        self.patience = check_int("patience", patience, low=0)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)

    def on_train_begin(self, trainer, available) -> None:
        super().on_train_begin(trainer, available)
        self._best, self._weights, self.wait, self.stopped_epoch = _Best(self.mode, self.min_delta), None, 0, None

    def on_epoch_end(self, trainer, logs) -> None:
        if self._improved(logs):
            self.wait = 0
            if self.restore_best_weights:
                self._weights = trainer.weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = logs["epoch"]
            trainer.stop_training = True

    def on_train_end(self, trainer) -> None:
        if self.restore_best_weights and self._weights is not None:
            trainer.set_weights(self._weights)


class ModelCheckpoint(BestValueCallback):
    """Save the model to ``path`` each time ``monitor`` reaches a new best (the best model so far).

    The file is the framework's native format (``lrlab.tf``: a ``.keras``
    archive; ``lrlab.torch``: a ``torch.save`` dictionary with the layer spec),
    written to a temporary file and renamed, so a reader never sees a
    half-written checkpoint. The backend adds its suffix when ``path`` lacks it;
    ``path`` is the file actually written. Read it back with the backend's
    ``load_model``.
    """

    def __init__(self, path, monitor: str = "val_loss", *, mode: str = "auto"):
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ParameterError(f"path = {path!r} is not allowed; expected a file path")
        self.requested = os.fspath(path)
        self.path = self.requested
        self.monitor, self.mode = _check_monitor(monitor, mode)

    def on_train_begin(self, trainer, available) -> None:
        super().on_train_begin(trainer, available)
        self.path = trainer.checkpoint_path(self.requested)
        self._best, self.saved_epochs = _Best(self.mode), []

    def on_epoch_end(self, trainer, logs) -> None:
        if self._improved(logs):
            trainer.save(self.path)
            self.saved_epochs.append(logs["epoch"])


class ReduceLROnPlateau(Callback):
    """Cut the LR by ``factor`` when ``monitor`` stops improving: :class:`lrlab.plateau.PlateauRule` each epoch.

    Same arguments and rule as ``PlateauRule`` (torch's counting: ``patience=p``
    tolerates p epochs without improvement and cuts at the next; absolute
    ``threshold`` by default). The LR must be a float: with a schedule the
    schedule owns the LR (Keras refuses the mix; torch would fight it).
    ``lrs`` lists the LR set after each epoch.
    """

    def __init__(self, monitor: str = "val_loss", *, mode: str = "auto", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "abs", cooldown: int = 0, min_lr: float = 0.0):
        self.monitor, mode = _check_monitor(monitor, mode)
        self.rule = PlateauRule(mode=mode, factor=factor, patience=patience, threshold=threshold,
                                threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr)

    def on_train_begin(self, trainer, available) -> None:
        super().on_train_begin(trainer, available)
        if not trainer.lr_settable:
            raise ParameterError("callbacks: ReduceLROnPlateau needs a float lr, not a schedule "
                                 "(the schedule owns the LR; pass optimizer(name, lr=<float>))")
        self.rule.reset()
        self.lrs = []

    def on_epoch_end(self, trainer, logs) -> None:
        lr = trainer.lr
        new = self.rule.step(float(logs[self.monitor]), lr)
        if new != lr:
            trainer.lr = new
        self.lrs.append(trainer.lr)
