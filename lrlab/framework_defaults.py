"""What Keras and PyTorch choose when you choose nothing, and how their defaults do against a grid (C003-4).

* :func:`read` — the defaults of the optimizers (learning rates, Adam's ε,
  AdamW's weight decay, RMSprop's averaging), of a dense layer's initialisation
  and of Keras's batch size, read from the installed libraries' signatures (and,
  for PyTorch's initial weights, from a freshly made layer), never typed;
* :func:`torch_style_init` — PyTorch's default ``Linear`` initialisation drawn in
  numpy, so that both frameworks can train from it;
* :func:`grid_and_default_runs` — Adam on a grid of learning rates and at each
  framework's defaults, once with the validation set and once with the test set
  held out (training does not depend on it: the runs are the same);
* :func:`choices` — per seed, the rate each grid picks on the validation loss and
  its test loss, next to the defaults'.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lrlab import many, sensitivity

__all__ = ["KERAS_OPTIMIZER_DEFAULTS", "TORCH_OPTIMIZER_DEFAULTS", "choices", "grid_and_default_runs", "read",
           "torch_style_init"]

#: (what, optimizer class, argument) read from ``keras.optimizers``
KERAS_OPTIMIZER_DEFAULTS = (("SGD learning rate", "SGD", "learning_rate"), ("Adam learning rate", "Adam",
                            "learning_rate"), ("Adam epsilon", "Adam", "epsilon"),
                            ("AdamW weight decay", "AdamW", "weight_decay"), ("RMSprop rho", "RMSprop", "rho"))
#: (what, optimizer class, argument) read from ``torch.optim``
TORCH_OPTIMIZER_DEFAULTS = (("SGD learning rate", "SGD", "lr"), ("Adam learning rate", "Adam", "lr"),
                            ("Adam epsilon", "Adam", "eps"), ("AdamW weight decay", "AdamW", "weight_decay"),
                            ("RMSprop rho (alpha)", "RMSprop", "alpha"))


def _optimizer_rows(framework: str, module, which) -> list[dict]:
    """Return one row per ``(what, class, argument)``: the argument's default in ``module.class``'s signature."""
    return [{"framework": framework, "what": what,
             "default": inspect.signature(getattr(module, cls)).parameters[arg].default} for what, cls, arg in which]


def read(frameworks: Sequence[str]) -> pd.DataFrame:
    """Return the installed libraries' defaults: columns ``framework`` (Keras, PyTorch), ``what``, ``default`` (text).

    For ``"tf"``: :data:`KERAS_OPTIMIZER_DEFAULTS`, the ``Dense`` kernel
    initializer, and ``fit``'s batch size (32 when ``batch_size=None``, stated
    by Keras's documentation, not a signature). For ``"torch"``:
    :data:`TORCH_OPTIMIZER_DEFAULTS` and the largest ``|w|`` and ``|b|`` of a
    fresh ``torch.nn.Linear(64, 32)``, drawn by torch's own random generator
    (its bound is ``1/sqrt(fan_in) = 0.125``). Floats are written with ``:g``.
    """
    rows = []
    if "tf" in frameworks:
        import keras

        rows += _optimizer_rows("Keras", keras.optimizers, KERAS_OPTIMIZER_DEFAULTS)
        rows += [{"framework": "Keras", "what": "Dense kernel initializer",
                  "default": inspect.signature(keras.layers.Dense).parameters["kernel_initializer"].default},
                 {"framework": "Keras", "what": "fit batch size", "default": "32 (when batch_size=None)"}]
    if "torch" in frameworks:
        import torch

        rows += _optimizer_rows("PyTorch", torch.optim, TORCH_OPTIMIZER_DEFAULTS)
        layer = torch.nn.Linear(64, 32)  # torch's own initialisation, drawn by torch
        w, b = (float(p.detach().abs().max()) for p in (layer.weight, layer.bias))
        rows.append({"framework": "PyTorch", "what": "Linear(64, 32) init: largest |w|, |b|",
                     "default": f"{w:.2f}, {b:.2f} (1/sqrt(64) = 0.125)"})
    defaults = pd.DataFrame(rows)
    defaults["default"] = [f"{v:g}" if isinstance(v, float) else str(v) for v in defaults["default"]]
    return defaults


def torch_style_init(sizes: Sequence[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return PyTorch's default ``Linear`` initialisation drawn in numpy: weights and biases ~ U(±1/sqrt(fan_in)).

    ``sizes`` lists the widths from input to output; one ``(kernel (in, out),
    bias)`` pair per layer, drawn from ``numpy.random.default_rng(seed)``.

    >>> [(w.shape, b.shape) for w, b in torch_style_init((4, 3, 2), 0)]
    [((4, 3), (3,)), ((3, 2), (2,))]
    >>> bool(abs(torch_style_init((4, 3), 0)[0][0]).max() <= 0.5)
    True
    """
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        out.append((rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)))
    return out


def grid_and_default_runs(backend, train, held_out: Mapping[str, tuple], *, sizes: Sequence[int],
                          seeds: Sequence[int], lrs: Sequence[float], epochs: int, seed: int) -> pd.DataFrame:
    """Train Adam (batch 32) on a grid of rates and at both frameworks' defaults; return one row per model and split.

    For each held-out split (``{"val": data.val, "test": data.test}``): one
    ``fit_many`` call trains, from Glorot-uniform weights drawn with each
    ``init_seed`` in ``seeds``, every rate in ``lrs`` (``setting`` ``"grid"``)
    and Keras's defaults (rate ``0.001``, ε ``1e-7``: ``"Keras defaults"``);
    then, per seed, PyTorch's defaults (rate ``0.001``, lrlab's ε, weights from
    :func:`torch_style_init`: ``"PyTorch defaults"``). Columns: those of
    :func:`lrlab.sensitivity.final` (``val_loss`` is the held-out split's loss),
    ``setting`` and ``held_out``.
    """
    parts = []
    for name, split in held_out.items():
        glorot = backend.fit_many(backend.mlp(sizes, "relu", "softmax"), train, split, optimizer="adam",
                                  loss="categorical_crossentropy", epochs=epochs, batch_size=32,
                                  configs=many.grid(init_seed=seeds, lr=list(lrs)) +
                                  [{"init_seed": s, "lr": 1e-3, "epsilon": 1e-7} for s in seeds], seed=seed)
        final = sensitivity.final(glorot, epochs)
        final["setting"] = ["grid"] * (len(final) - len(seeds)) + ["Keras defaults"] * len(seeds)
        for s in seeds:
            model = backend.mlp(sizes, "relu", "softmax", weights=torch_style_init(sizes, s))
            torch_like = backend.fit_many(model, train, split, optimizer="adam", loss="categorical_crossentropy",
                                          epochs=epochs, batch_size=32, configs=[{"lr": 1e-3}], seed=seed)
            final = pd.concat([final, sensitivity.final(torch_like, epochs, init_seed=s, setting="PyTorch defaults")],
                              ignore_index=True)
        parts.append(final.assign(held_out=name))
    return pd.concat(parts, ignore_index=True)


def choices(runs: pd.DataFrame, grids: Mapping[str, Sequence[float]],
            defaults: Sequence[str] = ("Keras defaults", "PyTorch defaults")) -> pd.DataFrame:
    """Return, per framework and seed, the rate each grid picks on the validation loss, and the defaults' row.

    ``runs`` has one row per model with the columns ``framework``, ``setting``,
    ``init_seed``, ``lr``, ``val`` and ``test`` (the final losses with each split
    held out). ``grids`` maps a label to the grid's rates (a subset of the
    ``"grid"`` rows); each picks its lowest ``val``. Columns: ``framework``,
    ``seed``, ``setting`` (a grid's label or a defaults setting), ``chosen lr``,
    ``val loss``, ``test loss``.

    >>> runs = pd.DataFrame({"framework": "tf", "setting": ["grid", "grid", "Keras defaults"], "init_seed": 0,
    ...                      "lr": [0.01, 0.1, 0.001], "val": [0.25, 0.5, 1.0], "test": [0.3, 0.4, 1.1]})
    >>> choices(runs, {"2-point grid": [0.01, 0.1]}, ["Keras defaults"])[["setting", "chosen lr"]].to_numpy().tolist()
    [['2-point grid', 0.01], ['Keras defaults', 0.001]]
    """
    rows = []
    for (name, s), part in runs.groupby(["framework", "init_seed"]):
        grid = part[part.setting == "grid"]
        for label, lrs in grids.items():
            candidates = grid[grid.lr.isin(list(lrs))]
            pick = candidates.loc[candidates.val.idxmin()]
            rows.append({"framework": name, "seed": s, "setting": label, "chosen lr": pick.lr,
                         "val loss": pick.val, "test loss": pick.test})
        for label in defaults:
            row = part[part.setting == label].iloc[0]
            rows.append({"framework": name, "seed": s, "setting": label, "chosen lr": row.lr, "val loss": row.val,
                         "test loss": row.test})
    return pd.DataFrame(rows)
