"""One ``fit_many`` call of the book's ReLU/softmax MLP with cross-entropy: the call the interaction chapters repeat.

Chapters 11 and 12 train grids of the 64-32-10 MLP on the digits data, one
``fit_many`` call per seed (and per batch size); :func:`fit_mlp` is that call,
so a chapter names only what changes: the optimizer, the configurations, the
seed, the budget.
"""

from __future__ import annotations

__all__ = ["fit_mlp"]


def fit_mlp(backend, data, optimizer: str, configs, seed: int, *, epochs: int, batch_size: int,
            sizes=(64, 32, 10)):
    """Return the history of ``backend.fit_many`` for the ReLU/softmax MLP ``sizes`` from ``seed``.

    ``data`` has ``train`` and ``val`` (e.g. :func:`lrlab.data.digits`); the
    loss is categorical cross-entropy; the initial weights and the batch order
    both come from ``seed`` (a configuration's ``init_seed`` overrides the
    weights); ``configs`` as in ``fit_many`` (e.g. :func:`lrlab.many.grid`).
    """
    return backend.fit_many(backend.mlp(tuple(sizes), "relu", "softmax", seed=seed), data.train, data.val,
                            optimizer=optimizer, loss="categorical_crossentropy", epochs=epochs,
                            batch_size=batch_size, configs=configs, seed=seed)
