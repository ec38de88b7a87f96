"""lrlab.rate_grid: a grid of learning-rate schedules read by validation accuracy (chapter 17)."""

import math

import numpy as np
import pandas as pd
import pytest

from lrlab import rate_grid
from lrlab.params import ParameterError


def fake_history(finals, epochs=2):
    """A fit_many-like history: one model per row of ``finals`` (loss, val_loss, val_accuracy, status)."""
    rows = []
    for m, (loss, val_loss, acc, status) in enumerate(finals):
        last = epochs if status == "ok" else 1
        for e in range(last):
            rows.append({"model": m, "epoch": e, "lr": 0.1, "loss": loss, "val_loss": val_loss,
                         "val_accuracy": acc, "status": status if e == last - 1 else "ok"})
    history = pd.DataFrame(rows)
    history.attrs["configs"] = pd.DataFrame({"model": range(len(finals)), "lr": 0.1})
    return history


def test_decay_schedule_ends_factor_lower():
    assert rate_grid.decay_schedule(0.3, 1, 10) == 0.3
    s = rate_grid.decay_schedule(1.0, 1000, 300)
    assert float(s(np.array([300]))[0]) == pytest.approx(1e-3)
    with pytest.raises(ParameterError):
        rate_grid.decay_schedule(0.1, 0.5, 10)


def test_finals_labels_and_diverged_runs():
    history = fake_history([(0.5, 1.0, 0.6, "ok"), (float("nan"), float("nan"), 0.1, "diverged")])
    out = rate_grid.finals(history, [("a", 0), ("b", 0)], ("cell", "seed"), epochs=2)
    assert out.cell.tolist() == ["a", "b"] and out.diverged.tolist() == [False, True]
    assert out.val_accuracy.tolist() == [0.6, 0.0] and math.isinf(out.loss[1])
    with pytest.raises(ParameterError):
        rate_grid.finals(history, [("a", 0)], ("cell", "seed"), epochs=2)


def test_band_counts_good_grid_points_per_seed():
    t = pd.DataFrame({"opt": ["adam"] * 4 + ["sgd"] * 4, "seed": [0, 0, 1, 1] * 2,
                      "lr": [0.01, 0.1] * 4, "val_accuracy": [0.5, 0.5, 0.5, 0.2, 0.2, 0.5, 0.2, 0.2]})
    bands = rate_grid.band_decades(t, "opt", 0.4)
    assert bands.loc[0].tolist() == [2.0, 1.0] and bands.loc[1].tolist() == [1.0, 0.0]
    uneven = pd.DataFrame({"opt": "a", "seed": 0, "lr": [0.01, 0.1, 0.2], "val_accuracy": 0.5})
    with pytest.raises(ParameterError, match="evenly"):
        rate_grid.band_decades(uneven, "opt", 0.4)

def test_best_against_chooses_on_means_and_reads_per_seed():
    v = pd.DataFrame([[0.4, 0.6], [0.55, 0.5], [0.3, 0.3]],
                     index=pd.MultiIndex.from_tuples([(0.001, 1), (0.01, 10), (0.1, 1)]), columns=[0, 1])
    a, b, ca, cb = rate_grid.best_against(v, lambda lr, f: lr <= 0.01, lambda lr, f: lr > 0.01)
    assert ca == (0.01, 10) and cb == (0.1, 1)
    assert (a - b).round(6).tolist() == [0.25, 0.2]
    with pytest.raises(ParameterError):
        rate_grid.best_against(v, lambda lr, f: lr > 1, lambda lr, f: True)


def test_mean_curves_average_over_seeds():
    history = fake_history([(1.0, 1, 0.5, "ok"), (3.0, 1, 0.5, "ok"), (5.0, 1, 0.5, "ok")])
    curves = rate_grid.mean_curves(history, [("c", 0.1, 0), ("c", 0.1, 1), ("d", 0.3, 0)])
    assert curves[("c", 0.1)].tolist() == [2.0, 2.0] and curves[("d", 0.3)].tolist() == [5.0, 5.0]
