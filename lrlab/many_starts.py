"""Gradient descent on a one-weight loss from many starting points at once, in a framework's native SGD (chapter 12).

``descend`` of a backend (:meth:`lrlab.backend.Backend.descend`) follows one
float32 weight and records every update; counting where a cyclical learning
rate takes runs from dozens of starts (C002-2) that way costs a Keras eager
step per start and update. :func:`descend_many` puts the starts in one float32
vector and takes the gradient of the *sum* of their losses: no operation mixes
two starts, so each start's path is the one ``descend`` gives it (the
arithmetic is element-wise; tests/test_many_starts.py checks the equality), made by
the same native optimizer and schedule objects — ``keras.optimizers.SGD`` with
``schedule.to_keras()``, ``torch.optim.SGD`` stepped as ``optimizer.step();
scheduler.step()`` with ``schedule.to_torch(optimizer)``.
"""

from __future__ import annotations

import numpy as np

from lrlab import training
from lrlab.params import ParameterError, check_choice

__all__ = ["descend_many"]


def descend_many(framework: str, loss, w0s, lr, steps: int) -> np.ndarray:
    """Return the weights after every update, ``(steps, starts)`` float32, of plain SGD from each of ``w0s``.

    ``framework`` is ``"tf"`` or ``"torch"``; ``loss`` maps a tensor of
    weights to a tensor of losses element by element, written with the
    framework's operations (e.g. :meth:`lrlab.data.Wells.loss`); ``lr`` a float
    or an lrlab schedule (update k uses ``lr(k)``).
    """
    framework = check_choice("framework", framework, ("tf", "torch"))
    w0s = np.asarray(w0s, dtype=np.float32)
    if w0s.ndim != 1 or not len(w0s) or not np.all(np.isfinite(w0s)):
        raise ParameterError("w0s must be a non-empty list of finite starting weights")
    loss, _, lr, steps = training.check_descend(loss, float(w0s[0]), lr, steps)
    run = _descend_tf if framework == "tf" else _descend_torch
    path = run(loss, w0s, lr, steps)
    return np.array(path, dtype=np.float32).reshape(steps, len(w0s))


def _descend_tf(loss, w0s, lr, steps):
    from lrlab.determinism import configure_tensorflow

    tf = configure_tensorflow()
    import keras

    optimizer = keras.optimizers.SGD(learning_rate=lr.to_keras() if training.is_schedule(lr) else float(lr))
    w = tf.Variable(w0s, dtype=tf.float32)
    path = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(loss(w))
        optimizer.apply_gradients([(tape.gradient(total, w), w)])
        path.append(w.numpy().copy())
    return path


def _descend_torch(loss, w0s, lr, steps):
    from lrlab.determinism import configure_torch

    torch = configure_torch()
    w = torch.tensor(w0s, dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=float(lr(0)) if training.is_schedule(lr) else float(lr))
    scheduler = lr.to_torch(optimizer) if training.is_schedule(lr) else None
    path = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss(w).sum().backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        path.append(w.detach().numpy().copy())
    return path
