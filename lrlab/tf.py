"""The TensorFlow 2 / Keras 3 training backend; :mod:`lrlab.torch` mirrors it name for name.

Importing this module configures TensorFlow first (quiet logs, deterministic
ops, one thread: :func:`lrlab.determinism.configure_tensorflow`). The logic the
two backends share lives in :mod:`lrlab.training`; this module only makes the
Keras calls.
"""

from __future__ import annotations

from lrlab.determinism import configure_tensorflow

tf = configure_tensorflow()

import keras  # noqa: E402  (after the environment above is set)
import numpy as np  # noqa: E402

from lrlab import training  # noqa: E402

__all__ = ["descend"]

FRAMEWORK = "tf"


def _keras_lr(lr):
    """Return what Keras takes as ``learning_rate`` for a float or an lrlab schedule."""
    return lr.to_keras() if training.is_schedule(lr) else float(lr)


def descend(loss, w0, lr, steps):
    """Return one row per update of plain gradient descent on one float32 weight (Keras SGD).

    Update k is ``w ← w − η_k·dL/dw`` (E000-1, E004-1), made by
    ``keras.optimizers.SGD`` with ``η`` a float or an lrlab schedule (E004-4).
    Columns: ``step`` (k), ``lr_used`` (η_k, the LR update k used), ``lr_next``
    (what ``optimizer.learning_rate`` reports after the update, i.e. η_{k+1}:
    what TF1 printed), ``loss`` (L at the new weight) and ``w`` (the new
    weight), all float32.
    """
    loss, w0, lr, steps = training.check_descend(loss, w0, lr, steps)
    optimizer = keras.optimizers.SGD(learning_rate=_keras_lr(lr))
    w = tf.Variable(np.float32(w0), dtype=tf.float32)
    rows = []
    for k in range(steps):
        lr_used = optimizer.learning_rate.numpy()
        with tf.GradientTape() as tape:
            value = loss(w)
        optimizer.apply_gradients([(tape.gradient(value, w), w)])
        rows.append((k, lr_used, optimizer.learning_rate.numpy(), loss(w).numpy(), w.numpy()))
    return training.descend_table(rows)
