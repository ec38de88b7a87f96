"""Seed 001's TensorFlow experiment (E001-1) as its reader would write it today, with plain Keras 3.

This is the baseline of ``benchmarks/run.py`` (a): what the seed does — build a
``Sequential`` of ``Dense(64, relu) → Dense(32, relu) → Dense(1, sigmoid)``,
compile it with Adam on a staircase ``ExponentialDecay(0.1, 100, 0.96)``,
binary cross-entropy and accuracy, and call ``model.fit(..., epochs=100,
validation_split=0.2)`` with Keras's default batch of 32 — written from the
seed's meaning with today's API (``keras.Input`` instead of the removed
``input_shape`` argument). :func:`fit_one` is the same model trained at one
constant LR: the loop body of an LR grid as users write it (E000-5).

No lrlab code runs here: these are the numbers lrlab is measured against.
"""

from __future__ import annotations

from lrlab.determinism import configure_tensorflow

configure_tensorflow()  # quiet logs, the same thread setting as lrlab.tf

import keras  # noqa: E402

__all__ = ["fit_one", "seed_experiment"]


def _model(n_features: int) -> keras.Sequential:
    """Return the seed-001 network, Keras's default (Glorot-uniform) initial weights."""
    return keras.Sequential([
        keras.Input((n_features,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])


def seed_experiment(x, y, epochs: int = 100):
    """Return the Keras ``History`` of E001-1: Adam on ExponentialDecay(0.1, 100, 0.96, staircase), 20 % held out."""
    model = _model(x.shape[1])
    decay = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96, staircase=True)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=decay), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, validation_split=0.2, verbose=0)


def fit_one(lr: float, train, val, epochs: int, batch_size: int = 32):
    """Return the Keras ``History`` of the seed-001 network trained with Adam at a constant ``lr``."""
    model = _model(train[0].shape[1])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model.fit(*train, validation_data=val, epochs=epochs, batch_size=batch_size, verbose=0)
