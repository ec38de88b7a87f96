"""Adam with an L2 penalty against AdamW (C002-1b): the sweep over learning rate × decay, its summary, the verdicts.

Loshchilov & Hutter's point is that an L2 penalty in Adam's gradient is
divided by Adam's running scale like any other gradient, while decoupled
weight decay (AdamW) shrinks every weight by ``1 − ηλ`` per step. lrlab's
optimizers offer only the decoupled form in both frameworks, so the two forms
run by hand in numpy (:func:`lrlab.numpy_adam.adam_softmax`, softmax
regression, float32). This module holds the optimizer chapter's mechanics of
that comparison:

* :func:`framework_gap` — the decoupled branch by hand against a backend's own
  AdamW (largest relative gap in final validation loss);
* :func:`sweep` — both forms over a grid of learning rates × decays, per seed;
* :func:`summary` — per form: the best mean loss, where it lies, and how large
  a decay stays within 10 % of it at that rate;
* :func:`judge` — the framework-free verdict of C002-1b, and
  :func:`not_testable` — the verdict in a framework whose optimizers lack the
  L2 form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import lr_bands, many, numpy_adam, sensitivity, verdicts

__all__ = ["FORMS", "framework_gap", "judge", "not_testable", "summary", "sweep"]

#: the two forms, by label: whether the decay is coupled to the gradient (L2) or decoupled (AdamW)
FORMS = {"Adam + L2": True, "AdamW": False}


def framework_gap(backend, train, val, configs, seed: int, epochs: int = 5, batch_size: int = 32) -> float:
    """Return the largest relative gap in final val loss between AdamW by hand and the backend's AdamW.

    ``configs`` is a list of ``{"lr": ..., "weight_decay": ...}`` (e.g. from
    :func:`lrlab.many.grid`); both sides train softmax regression
    (``mlp((d, k), output_activation="softmax")``) from the weights and batch
    order of ``seed``: the backend with ``fit_many(optimizer="adamw")``, numpy
    with :func:`lrlab.numpy_adam.adam_softmax` (``coupled=False``). The gap is
    ``max |hand − native| / native``.
    """
    hand = numpy_adam.adam_softmax(train, val, [c["lr"] for c in configs], [c["weight_decay"] for c in configs],
                                   coupled=False, seed=seed, epochs=epochs, batch_size=batch_size)
    shape = (np.shape(train[0])[1], np.shape(train[1])[1])
    history = backend.fit_many(backend.mlp(shape, output_activation="softmax", seed=seed), train, val,
                               optimizer="adamw", loss="categorical_crossentropy", epochs=epochs,
                               batch_size=batch_size, configs=configs, seed=seed)
    native = sensitivity.final(history, epochs).val_loss.to_numpy()
    return float(np.max(np.abs(hand - native) / native))


def sweep(train, val, lrs, decays, seeds, epochs: int, batch_size: int = 32) -> pd.DataFrame:
    """Return the final val loss of both :data:`FORMS` for every learning rate × decay and seed.

    One row per model: ``form``, ``lr``, ``decay``, ``seed``, ``val_loss``
    (``inf`` for a diverged model); all settings of one form and seed train at
    once in :func:`lrlab.numpy_adam.adam_softmax`.

    >>> from lrlab.data import digits
    >>> data = digits(seed=0)
    >>> runs = sweep(data.train, data.val, [0.01], [0.0, 0.1], seeds=[0], epochs=1)
    >>> runs[["form", "lr", "decay", "seed"]].values.tolist()
    [['Adam + L2', 0.01, 0.0, 0], ['Adam + L2', 0.01, 0.1, 0], ['AdamW', 0.01, 0.0, 0], ['AdamW', 0.01, 0.1, 0]]
    """
    grid = many.grid(lr=list(lrs), weight_decay=list(decays))
    lr_list, decay_list = [c["lr"] for c in grid], [c["weight_decay"] for c in grid]
    parts = []
    for label, coupled in FORMS.items():
        for s in seeds:
            losses = numpy_adam.adam_softmax(train, val, lr_list, decay_list, coupled=coupled, seed=s, epochs=epochs,
                                             batch_size=batch_size)
            parts.append(pd.DataFrame({"form": label, "lr": lr_list, "decay": decay_list, "seed": s,
                                       "val_loss": losses}))
    return pd.concat(parts, ignore_index=True)


def summary(cells: pd.DataFrame, near: float = 1.1) -> pd.DataFrame:
    """Return, per form, the best mean val loss over the grid, where it lies and how forgiving the decay is there.

    ``cells`` is :func:`lrlab.sensitivity.spread` of :func:`sweep` over
    ``["form", "lr", "decay"]``. Columns: ``form``, ``best val loss``, ``best
    lr``, ``best decay``, ``no decay at that lr`` and ``largest decay within 10%
    of the best`` (at the best lr, the largest decay whose mean loss is at most
    ``near`` times the best).
    """
    rows = []
    for form in FORMS:
        view = sensitivity.heatmap_table(cells[cells.form == form], "decay", "lr")
        (best_decay, best_lr), lowest = view.stack().idxmin(), view.to_numpy().min()
        column = view[best_lr]
        rows.append({"form": form, "best val loss": lowest, "best lr": best_lr, "best decay": best_decay,
                     "no decay at that lr": column.iloc[0],
                     "largest decay within 10% of the best": column[column <= near * lowest].index.max()})
    return pd.DataFrame(rows)


def judge(best: pd.DataFrame, forms: pd.DataFrame, threshold: float, *, scope: str, seeds: int) -> verdicts.Verdict:
    """Return the recorded framework-free verdict of C002-1b: AdamW's best val loss below Adam + L2's.

    ``best`` holds each seed's best val loss over the grid (seeds down, forms
    across); the effect is AdamW's relative gain ``(L2 − AdamW) / L2``, mean
    over seeds, with its seed standard deviation as the noise. ``forms`` is
    :func:`summary`'s table, whose decay tolerance the evidence quotes.
    """
    gain = lr_bands.mean_std((best["Adam + L2"] - best["AdamW"]) / best["Adam + L2"])
    tolerance = forms.set_index("form")["largest decay within 10% of the best"]
    return lr_bands.judge(
        "C002-1b", verdicts.FRAMEWORK_FREE, {"-": gain}, threshold, seeds=seeds, scope=scope,
        rule=f"AdamW's best val loss (lr and decay tuned, per seed) lower than Adam + L2's by >= {threshold:.0%}",
        evidence=f"relative gain of AdamW {gain[0]:.3f} (seed std {gain[1]:.3f}); largest decay within 10% of the "
                 f"best loss: AdamW {tolerance['AdamW']:.2g}, Adam + L2 {tolerance['Adam + L2']:.2g}")


def not_testable(framework: str, gap: str) -> verdicts.Verdict:
    """Return the recorded verdict "not testable here" of C002-1b in ``framework``, with the reason.

    ``gap`` is the text of :func:`framework_gap` (how closely the numpy AdamW
    matches the framework's).
    """
    return verdicts.record(verdicts.Verdict(
        part="C002-1b", framework=framework, word="not testable here", rule="see the framework-free verdict",
        scope="lrlab's optimizers", evidence=f"lrlab's {framework} optimizers apply Adam's weight decay only decoupled "
        f"(AdamW; Keras has no Adam with L2 in the gradient), so both forms run in numpy (framework 'none'), whose "
        f"AdamW matches {framework}'s to a relative {gap}"))
