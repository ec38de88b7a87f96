"""An MLP trained by Adam with an L1 or L2 penalty in the loss, written out in numpy (C003-1b).

lrlab's ``fit`` and ``fit_many`` offer weight decay as an optimizer option (AdamW's
decoupled decay, SGD's ``weight_decay``) in both frameworks, but no penalty in the
loss, so L1 regularisation cannot be run through them. This module trains the
book's MLP (``lrlab`` ``mlp(sizes, "relu", "softmax")``, categorical
cross-entropy) by hand in float64, M models at once, on the loss

``L(w) + l1·Σ|w| + (l2/2)·Σw²``  (every kernel and bias entry),

whose gradient adds ``l1·sign(w) + l2·w`` to the cross-entropy's. With
``l1 = l2 = 0`` it is the same computation as ``fit_many(..., optimizer="adam")``
in both backends — same initial weights (:func:`lrlab.training.initial_weights`),
same batches (:func:`lrlab.training.epoch_orders`), Keras's ε form of the Adam
step (``w ← w − η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε)``) — which
``tests/test_part_verdicts.py`` checks, so an L1 run differs from the frameworks'
Adam by the penalty alone. The validation loss reported is the cross-entropy
without the penalty (what the book compares across regularisers).
:func:`sweep` runs each penalty over its strengths and seeds and returns the
runs as a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import training
from lrlab.params import ParameterError, check_int

__all__ = ["adam_mlp", "sweep"]


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _forward(layers, x):
    """Return ``(logits (M, b, out), inputs of each layer)``."""
    h, inputs = np.broadcast_to(x, (len(layers[0][0]),) + x.shape), []
    for j, (kernel, bias) in enumerate(layers):
        if j:
            h = np.maximum(h, 0.0)
        inputs.append(h)
        h = h @ kernel + bias[:, None, :]
    return h, inputs


def _cross_entropy(z, y):
    """Return each model's mean categorical cross-entropy over the rows, ``(M,)``."""
    return -(y * _log_softmax(z)).sum(-1).mean(-1)


def adam_mlp(sizes, train, val, *, lr: float, l1=(0.0,), l2=(0.0,), init_seeds=(0,), epochs: int = 10,
             batch_size: int = 64, seed: int = 0, beta_1: float = 0.9, beta_2: float = 0.999,
             epsilon: float = 1e-8) -> np.ndarray:
    """Return the final validation cross-entropy ``(M,)`` of M ReLU/softmax MLPs trained by Adam with L1/L2 penalties.

    ``l1``, ``l2`` and ``init_seeds`` are broadcast against each other (one entry,
    or M); model m starts from ``training.initial_weights(spec, init_seeds[m])``;
    all models share the batch order of ``seed``. A model whose loss turns
    non-finite keeps NaN.
    """
    spec = training.check_mlp(tuple(sizes), "relu", "softmax", "float64")
    l1, l2, init_seeds = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (l1, l2, init_seeds))
    m = max(len(l1), len(l2), len(init_seeds))
    if any(len(a) not in (1, m) for a in (l1, l2, init_seeds)) or (l1 < 0).any() or (l2 < 0).any():
        raise ParameterError(f"l1 = {l1.tolist()}, l2 = {l2.tolist()}, init_seeds = {init_seeds.tolist()} are not "
                             "allowed; expected non-negative penalties, each of length 1 or M")
    epochs, batch_size = check_int("epochs", epochs, low=1), check_int("batch_size", batch_size, low=1)
    l1, l2 = np.broadcast_to(l1, (m,))[:, None], np.broadcast_to(l2, (m,))[:, None]
    starts = [training.initial_weights(spec, int(s)) for s in np.broadcast_to(init_seeds, (m,))]
    sizes_flat = [(k.size, b.size) for k, b in starts[0]]
    w = np.stack([np.concatenate([a.ravel() for pair in s for a in pair]) for s in starts])
    mom, vel = np.zeros_like(w), np.zeros_like(w)

    def layers(flat):
        out, start = [], 0
        for (fan_in, fan_out), (nk, nb) in zip(spec.shapes, sizes_flat):
            out.append((flat[:, start:start + nk].reshape(m, fan_in, fan_out),
                        flat[:, start + nk:start + nk + nb]))
            start += nk + nb
        return out

    x, y = (np.asarray(a, dtype=np.float64) for a in train)
    t = 0
    for order in training.epoch_orders(len(x), epochs, seed):
        for i in range(0, len(order), batch_size):
            xb, yb = x[order[i:i + batch_size]], y[order[i:i + batch_size]]
            z, inputs = _forward(layers(w), xb)
            dz = (np.exp(_log_softmax(z)) - yb) / len(xb)
            grads = []
            for j in range(len(spec.shapes) - 1, -1, -1):
                kernel = layers(w)[j][0]
                grads.append((inputs[j].transpose(0, 2, 1) @ dz, dz.sum(1)))
                if j:
                    dz = (dz @ kernel.transpose(0, 2, 1)) * (inputs[j] > 0)
            g = np.concatenate([a.reshape(m, -1) for pair in grads[::-1] for a in pair], axis=1)
            g = g + l1 * np.sign(w) + l2 * w
            t += 1
            mom += (1 - beta_1) * (g - mom)
            vel = beta_2 * vel + (1 - beta_2) * g * g
            w = w - lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t) * mom / (np.sqrt(vel) + epsilon)
    z, _ = _forward(layers(w), np.asarray(val[0], dtype=np.float64))
    return _cross_entropy(z, np.asarray(val[1], dtype=np.float64))


def sweep(sizes, train, val, strengths: dict, *, lr: float, seeds, epochs: int = 10, batch_size: int = 64
          ) -> pd.DataFrame:
    """Return one row per run of :func:`adam_mlp` for each penalty's strengths × ``seeds``.

    ``strengths`` maps ``"L1"`` and/or ``"L2"`` to the strengths swept; each
    penalty's runs train together in one call, model ``(strength, seed)`` from
    the initial weights of ``seed``, all with the batch order of ``seeds[0]``.
    Columns: ``hyperparameter`` (``"L1 penalty"``, ``"L2 penalty"``), ``value``
    (the strength), ``seed`` and ``val_loss``.
    """
    seeds, rows = list(seeds), []
    for kind, values in strengths.items():
        if kind not in ("L1", "L2"):
            raise ParameterError(f"strengths has {kind!r}; expected the keys 'L1' and/or 'L2'")
        strength, init_seeds = np.repeat(values, len(seeds)), np.tile(seeds, len(values))
        out = adam_mlp(sizes, train, val, lr=lr, init_seeds=init_seeds, epochs=epochs, batch_size=batch_size,
                       seed=seeds[0], **{kind.lower(): strength})
        rows += [{"hyperparameter": f"{kind} penalty", "value": v, "seed": s, "val_loss": o}
                 for v, s, o in zip(strength, init_seeds, out)]
    return pd.DataFrame(rows)
