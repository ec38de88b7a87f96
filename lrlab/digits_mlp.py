"""The digits MLP of chapters 4 and 5: one data set, one network, every run's fixed arguments in one place.

The range-test and grid chapters (E000-5, E002-1, E002-6, E004-2, C001-2) train
one network on one data set in both frameworks: scikit-learn's 8×8 digits
(:func:`lrlab.data.digits`, split 60/20/20 with stratification), an MLP
``64 → hidden → 10`` (ReLU, then softmax) whose initial weights are drawn in
numpy (the same in TensorFlow and PyTorch), categorical cross-entropy, one
optimizer and one batch size. :func:`setup` does a chapter's set-up in the
order the chapters always did it — start the clock, import the backends, seed
every generator (:func:`lrlab.seed_everything`), cut the data — and returns a
:class:`DigitsMLP` whose methods call the backends with the fixed arguments, so
that a chapter's cell names only what varies: learning rates, epochs, initial
weights, data.

>>> last = final_rows(pd.DataFrame({"model": [0, 0, 1], "epoch": [0, 1, 0], "val_loss": [0.5, 0.3, 9.0]}))
>>> last.index.tolist(), last.epoch.tolist(), last.val_loss.tolist()
([0, 1], [1, 0], [0.3, 9.0])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lrlab import data
from lrlab.determinism import seed_everything
from lrlab.params import check_int

__all__ = ["LOSS", "DigitsMLP", "final_rows", "setup"]

#: the loss every run of the digits chapters minimises
LOSS = "categorical_crossentropy"


def final_rows(history: pd.DataFrame) -> pd.DataFrame:
    """Return each model's last row of a ``fit_many`` history (its final epoch, or the epoch it diverged), by model.

    Unlike :func:`lrlab.sensitivity.final` the row is kept as it is: a diverged
    model shows the loss it diverged with and ``status == "diverged"``.
    """
    return history.groupby("model").tail(1).set_index("model")


@dataclass
class DigitsMLP:
    """A chapter's set-up: its backends, the digits split, the MLP's widths and the fixed training arguments."""

    backends: dict
    digits: data.Digits
    layers: tuple
    seed: int
    optimizer: str = "sgd"
    batch_size: int = 32
    started: float = field(default_factory=time.perf_counter)

    def describe(self) -> str:
        """Return the set-up in words, e.g. ``"digits: 1077 train, 360 val, 360 test rows; MLP (64, 32, 10)"``."""
        d = self.digits
        return (f"digits: {len(d.train[0])} train, {len(d.val[0])} val, {len(d.test[0])} test rows; "
                f"MLP {self.layers}")

    def scope(self) -> str:
        """Return the scope of a verdict, e.g. ``"digits (1077 train / 360 val rows), MLP (64, 32, 10)"``."""
        return f"digits ({len(self.digits.train[0])} train / {len(self.digits.val[0])} val rows), MLP {self.layers}"

    @property
    def full_batches(self) -> int:
        """Return the full batches of one epoch, ``⌊n_train / batch_size⌋`` (a range test's updates per epoch)."""
        return len(self.digits.train[0]) // self.batch_size

    @property
    def updates_per_epoch(self) -> int:
        """Return the updates of one ``fit`` epoch, ``⌈n_train / batch_size⌉`` (the last partial batch counts)."""
        return -(-len(self.digits.train[0]) // self.batch_size)

    def elapsed(self) -> float:
        """Return the seconds since :func:`setup` started the clock."""
        return time.perf_counter() - self.started

    def model(self, backend, draw: int | None = None):
        """Return the MLP of ``backend`` with the initial weights of seed ``draw`` (default: the chapter's seed)."""
        return backend.mlp(self.layers, "relu", "softmax", seed=self.seed if draw is None else draw)

    def fit_many(self, backend, configs, epochs: int, train=None, val=None) -> pd.DataFrame:
        """Return ``backend.fit_many``'s history of ``configs`` trained together from :meth:`model`'s weights.

        ``train`` and ``val`` default to the digits' training and validation
        parts; the optimizer, loss, batch size and batch order (the chapter's
        seed) are the set-up's.
        """
        return backend.fit_many(self.model(backend), self.digits.train if train is None else train,
                                self.digits.val if val is None else val, optimizer=self.optimizer, loss=LOSS,
                                epochs=epochs, batch_size=self.batch_size, configs=configs, seed=self.seed)

    def finals(self, backend, configs, epochs: int, train=None, val=None) -> pd.DataFrame:
        """Return :func:`final_rows` of :meth:`fit_many`: one row per configuration, indexed by model."""
        return final_rows(self.fit_many(backend, configs, epochs, train, val))

    def fit(self, backend, lr, epochs: int, train=None, val=None):
        """Return :meth:`model` trained with ``fit`` at ``lr`` (a float or a schedule) on ``train`` (default: digits).

        ``val`` (default none) is only evaluated after each epoch; it changes
        nothing in the training.
        """
        model = self.model(backend)
        backend.fit(model, self.digits.train if train is None else train, val,
                    optimizer=backend.optimizer(self.optimizer, lr), loss=LOSS, epochs=epochs,
                    batch_size=self.batch_size, seed=self.seed)
        return model

    def evaluate(self, backend, model=None, part=None) -> dict:
        """Return ``{"loss": ..., "accuracy": ...}`` of ``model`` (default: untrained) on ``part`` (default: val)."""
        return backend.evaluate(self.model(backend) if model is None else model,
                                self.digits.val if part is None else part, loss=LOSS)

    def test_text(self, backend, model) -> str:
        """Return ``"test loss 0.303, test accuracy 92.8 %"``: ``model`` evaluated on the untouched test part."""
        result = self.evaluate(backend, model, self.digits.test)
        return f"test loss {result['loss']:.3f}, test accuracy {100 * result['accuracy']:.1f} %"

    def pooled(self) -> tuple:
        """Return ``(x, y)``: the training rows followed by the validation rows (for cross-validation)."""
        d = self.digits
        return np.concatenate([d.train[0], d.val[0]]), np.concatenate([d.train[1], d.val[1]])

    def range_test(self, backend, val=None, draw: int | None = None, **ramp):
        """Return ``backend.lr_range_test`` of the MLP of ``draw``, batches ordered by ``draw`` too (default: seed).

        ``ramp`` holds the test's own arguments (``start_lr``, ``end_lr``,
        ``num_it``, ``mode``, ``unit``, ``beta``); ``val`` adds the validation
        loss and accuracy after every iteration.
        """
        seed = self.seed if draw is None else draw
        return backend.lr_range_test(self.model(backend, draw), self.digits.train, val, optimizer=self.optimizer,
                                     loss=LOSS, batch_size=self.batch_size, seed=seed, **ramp)

    def range_tests(self, val=None, **ramp) -> dict:
        """Return ``{framework: RangeTest}``: :meth:`range_test` run in every framework of the set-up."""
        return {name: self.range_test(b, val, **ramp) for name, b in self.backends.items()}


def setup(frameworks, *, seed: int, hidden: int, optimizer: str = "sgd", batch_size: int = 32) -> DigitsMLP:
    """Return the :class:`DigitsMLP` of a chapter, after importing its backends and seeding every generator.

    In this order: the clock starts (:meth:`DigitsMLP.elapsed`), the backends
    of ``frameworks`` are imported (:func:`lrlab.load_backends`), the global
    generators are seeded with ``seed`` and the digits are split with ``seed``;
    the MLP has widths ``(64, hidden, 10)``.
    """
    from lrlab import load_backends

    started = time.perf_counter()
    backends = load_backends(frameworks)
    seed_everything(seed)
    digits = data.digits(seed=seed)
    return DigitsMLP(backends, digits, (64, check_int("hidden", hidden, low=1), 10), seed, optimizer, batch_size,
                     started)
