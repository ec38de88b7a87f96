"""Adam with an L2 penalty and Adam with decoupled weight decay, written out in numpy (C002-1).

Loshchilov & Hutter (2019) contrast two ways of adding weight decay λ to Adam:

* **L2 in the gradient** ("Adam + L2", torch's ``Adam(weight_decay=λ)``):
  ``g ← ∇L + λ·w``, so the decay term is divided by ``√v`` like the gradient;
* **decoupled** (AdamW, torch's ``AdamW``, Keras's ``AdamW``):
  ``w ← w·(1 − η·λ)``, then the Adam step on ``∇L`` alone.

lrlab's optimizers offer only the second form in both frameworks (Keras has no
L2-in-the-gradient Adam), so the comparison is made here, by hand, on the model
whose gradient is short to write: softmax regression (``lrlab`` ``mlp((d, k),
output_activation="softmax")``, categorical cross-entropy), M models at once.
The decoupled branch is the same computation as ``fit_many(..., optimizer="adamw")``
in both backends (tests/test_interactions.py checks it to float32 rounding), so
the L2 branch differs from the frameworks' AdamW by the one line that moves λ.

The Adam step is Keras's ε form, as everywhere in lrlab: with t the update
count, ``m ← m + (1−β₁)(g − m)``, ``v ← β₂v + (1−β₂)g²``,
``w ← w − η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε)``.
"""

from __future__ import annotations

import numpy as np

from lrlab import training
from lrlab.params import ParameterError, check_bool, check_int, check_number

__all__ = ["adam_softmax"]


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def adam_softmax(train, val, lrs, decays, *, coupled: bool, seed: int = 0, epochs: int = 10, batch_size: int = 32,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> np.ndarray:
    """Return the final validation cross-entropy of M softmax regressions trained by Adam with weight decay.

    Model m has learning rate ``lrs[m]`` and decay ``decays[m]``; ``coupled``
    chooses L2 in the gradient (True) or decoupled decay (False, AdamW). All
    models start from :func:`lrlab.training.initial_weights` of ``seed`` (what
    ``mlp((d, k), seed=seed)`` draws) and see the batches of
    :func:`lrlab.training.epoch_orders` (``seed``), as ``fit_many`` would. Float32
    throughout; a model whose loss is not finite returns ``inf``. Decay applies
    to kernels and biases alike, as in the frameworks' AdamW.
    """
    (x, y), (xv, yv) = train, val
    x, y, xv, yv = (np.asarray(a, dtype=np.float32) for a in (x, y, xv, yv))
    lrs, decays = np.asarray(lrs, dtype=np.float32), np.asarray(decays, dtype=np.float32)
    if lrs.ndim != 1 or lrs.shape != decays.shape or len(lrs) == 0:
        raise ParameterError("lrs and decays must be two lists of the same length >= 1")
    for name, values in (("lrs", lrs), ("decays", decays)):
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ParameterError(f"{name} must hold finite numbers >= 0")
    check_bool("coupled", coupled)
    check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    b1, b2 = (np.float32(check_number(n, v, low=0, high=1, high_open=True))
              for n, v in (("beta_1", beta_1), ("beta_2", beta_2)))
    eps = np.float32(check_number("epsilon", epsilon, low=0))
    spec = training.check_mlp((x.shape[1], y.shape[1]), "relu", "softmax")
    (kernel, bias), = training.initial_weights(spec, seed)
    m_count = len(lrs)
    params = [np.repeat(kernel[None], m_count, 0), np.repeat(bias[None, None], m_count, 0)]  # (M,d,k), (M,1,k)
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    lr, decay = lrs[:, None, None], decays[:, None, None]
    one = np.float32(1)
    t = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for order in training.epoch_orders(len(x), epochs, seed):
            for start in range(0, len(x), batch_size):
                rows = order[start:start + batch_size]
                xb, yb = x[rows], y[rows]
                z = xb @ params[0] + params[1]
                p = np.exp(_log_softmax(z))
                dz = (p - yb) / np.float32(len(rows))
                grads = [np.einsum("ni,mnj->mij", xb, dz), dz.sum(axis=1, keepdims=True)]
                if coupled:
                    grads = [g + decay * w for g, w in zip(grads, params)]
                else:
                    params = [w * (one - lr * decay) for w in params]
                t += 1
                step = lr * np.float32(np.sqrt(1 - b2 ** t) / (1 - b1 ** t))
                for i, g in enumerate(grads):
                    first[i] = first[i] + (one - b1) * (g - first[i])
                    second[i] = b2 * second[i] + (one - b2) * g * g
                    params[i] = params[i] - step * first[i] / (np.sqrt(second[i]) + eps)
        loss = -(yv * _log_softmax(xv @ params[0] + params[1])).sum(axis=-1).mean(axis=-1)
    return np.where(np.isfinite(loss), loss, np.inf).astype(np.float64)
