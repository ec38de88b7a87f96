"""Gradient norms of an lrlab MLP, computed by each framework (C004-1b).

Seed 004 says a too-large learning rate "makes the gradients explode". The
book measures it, in TensorFlow and in PyTorch, with the framework's own
automatic differentiation (``tf.GradientTape``, ``torch.autograd``) in float64:

* :func:`gradient_norm` — the Euclidean norm of the full-batch gradient of the
  mean training loss at given weights (every kernel and bias, one vector);
* :func:`sgd_trace` — plain SGD written out update by update
  (``w ← w − η·g`` on the batches of :func:`lrlab.training.epoch_orders`, the
  same batches and the same arithmetic as ``fit`` with ``optimizer("sgd", lr)``)
  that returns, for **every update**, the norm of the gradient the update
  used. ``fit`` reports epochs only; a run that blows up does so within a few
  updates, and a snapshot at the end of an epoch would see only what is left
  (measured: at the largest rates the ReLUs die and the end-of-epoch gradient
  is *smaller* than at the start). The tests check that its epoch losses equal
  ``fit``'s.

The loss is the one lrlab trains (:mod:`lrlab.training`): cross-entropies from
the logits, a row's loss averaged over its outputs for the binary and mse
losses, the mean over rows. Weights that are no longer finite give ``inf``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lrlab import training
from lrlab.params import ParameterError, check_choice, check_int, check_number

__all__ = ["FRAMEWORKS", "gradient_norm", "sgd_trace"]

#: the frameworks that differentiate here
FRAMEWORKS = ("tf", "torch")


def _torch_ops():
    import torch
    import torch.nn.functional as F

    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}

    def value_and_grad(spec, params, x, y, loss):
        params = [p.detach().requires_grad_(True) for p in params]
        h = x
        for j in range(len(params) // 2):
            h = h @ params[2 * j] + params[2 * j + 1]
            if j < len(params) // 2 - 1:
                h = act[spec.activation](h)
        if loss == "categorical_crossentropy":
            value = -(y * F.log_softmax(h, dim=-1)).sum(-1).mean()
        elif loss == "binary_crossentropy":
            value = (F.softplus(h) - y * h).mean(-1).mean()
        else:
            out = {"softmax": lambda z: torch.softmax(z, -1), "sigmoid": torch.sigmoid}.get(
                spec.output_activation, lambda z: z)
            value = ((out(h) - y) ** 2).mean(-1).mean()
        grads = torch.autograd.grad(value, params)
        return float(value.detach()), [g.detach() for g in grads]

    return torch.from_numpy, value_and_grad, lambda g: float(sum((a ** 2).sum() for a in g)) ** 0.5


def _tf_ops():
    import tensorflow as tf

    act = {"relu": tf.nn.relu, "tanh": tf.tanh, "sigmoid": tf.sigmoid, "linear": lambda z: z}

    def value_and_grad(spec, params, x, y, loss):
        with tf.GradientTape() as tape:
            tape.watch(params)
            h = x
            for j in range(len(params) // 2):
                h = h @ params[2 * j] + params[2 * j + 1]
                if j < len(params) // 2 - 1:
                    h = act[spec.activation](h)
            if loss == "categorical_crossentropy":
                value = tf.reduce_mean(-tf.reduce_sum(y * tf.nn.log_softmax(h, axis=-1), axis=-1))
            elif loss == "binary_crossentropy":
                value = tf.reduce_mean(tf.reduce_mean(tf.nn.softplus(h) - y * h, axis=-1))
            else:
                out = {"softmax": tf.nn.softmax, "sigmoid": tf.sigmoid}.get(spec.output_activation, lambda z: z)
                value = tf.reduce_mean(tf.reduce_mean((out(h) - y) ** 2, axis=-1))
        return float(value), tape.gradient(value, params)

    return tf.constant, value_and_grad, lambda g: float(tf.add_n([tf.reduce_sum(a ** 2) for a in g])) ** 0.5


def _ops(framework):
    return _tf_ops() if check_choice("framework", framework, FRAMEWORKS) == "tf" else _torch_ops()


def _check(spec, weights, loss):
    loss = check_choice("loss", loss, tuple(training.LOSSES))
    if len(weights) != len(spec.shapes):
        raise ParameterError(f"weights has {len(weights)} layers; the spec {spec.sizes} has {len(spec.shapes)}")
    return loss, [np.asarray(a, np.float64) for pair in weights for a in pair]


def _finite_norm(value: float) -> float:
    return value if math.isfinite(value) else math.inf


def gradient_norm(framework: str, spec: training.MLPSpec, weights, x, y, loss: str) -> float:
    """Return the Euclidean norm of the full-batch gradient of the mean ``loss`` over ``(x, y)`` at ``weights``.

    ``weights`` is ``[(kernel (in, out), bias (out,)), ...]`` (what a backend's
    ``weights(model)`` gives); the gradient is taken by ``framework``'s
    automatic differentiation (``"tf"`` or ``"torch"``) in float64, over every
    kernel and bias. Non-finite weights or gradients give ``inf``.
    """
    loss, arrays = _check(spec, weights, loss)
    to_tensor, value_and_grad, norm = _ops(framework)
    if not all(np.isfinite(a).all() for a in arrays):
        return math.inf
    _, grads = value_and_grad(spec, [to_tensor(a) for a in arrays], to_tensor(np.asarray(x, np.float64)),
                              to_tensor(np.asarray(y, np.float64)), loss)
    return _finite_norm(norm(grads))


def sgd_trace(framework: str, spec: training.MLPSpec, weights, train, *, lr: float, loss: str, epochs: int,
              batch_size: int, seed: int = 0) -> pd.DataFrame:
    """Return one row per SGD update: ``epoch``, ``update``, the batch ``loss`` and ``grad_norm`` it used.

    Plain SGD (``w ← w − lr·g``) from ``weights`` on ``train = (x, y)``, the
    batches of :func:`lrlab.training.epoch_orders` with ``seed`` cut into
    ``batch_size`` rows (a last partial batch kept): what ``fit`` does with
    ``optimizer("sgd", lr)``. ``grad_norm`` is the Euclidean norm of the batch
    gradient, by ``framework``'s automatic differentiation, before the update.
    The run follows lrlab's divergence rule (:func:`lrlab.training.is_diverged`
    on the epoch's mean loss): it stops after an epoch whose mean loss diverged,
    or at the first update whose gradient is no longer finite (``inf``).
    ``attrs["epoch_loss"]`` holds the epochs' mean losses (``fit``'s ``loss``).
    """
    loss, arrays = _check(spec, weights, loss)
    lr = check_number("lr", lr, low=0, low_open=True)
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    to_tensor, value_and_grad, norm = _ops(framework)
    x, y = np.asarray(train[0], np.float64), np.asarray(train[1], np.float64)
    start = training.initial_loss(spec, weights, x, y, loss)
    params = [to_tensor(a) for a in arrays]
    rows, epoch_loss, update = [], [], 0
    for epoch, order in enumerate(training.epoch_orders(len(x), epochs, seed)):
        total, broken = 0.0, False
        for i in range(0, len(order), batch_size):
            index = order[i:i + batch_size]
            value, grads = value_and_grad(spec, params, to_tensor(x[index]), to_tensor(y[index]), loss)
            g = _finite_norm(norm(grads))
            rows.append((epoch, update, value, g))
            update, total = update + 1, total + value * len(index)
            if not math.isfinite(g):
                broken = True
                break
            params = [p - lr * d for p, d in zip(params, grads)]
        epoch_loss.append(total / len(order) if not broken else math.inf)
        if broken or training.is_diverged(epoch_loss[-1], start):
            break
    table = pd.DataFrame(rows, columns=["epoch", "update", "loss", "grad_norm"])
    table.attrs["epoch_loss"] = tuple(epoch_loss)
    table.attrs["initial_loss"] = start
    return table
