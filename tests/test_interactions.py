"""Helpers of the interaction chapters: sweep reading (lrlab.sensitivity), Adam + L2 by hand (lrlab.numpy_adam),
the multimodal toy loss (lrlab.data.Wells)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lrlab
from lrlab import many, numpy_adam, sensitivity
from lrlab.data import Wells, digits


# ----------------------------------------------------------------------------------------
# lrlab.sensitivity
# ----------------------------------------------------------------------------------------
def test_good_band_counts_decades_and_interpolates_the_edges():
    lrs = [0.01, 0.1, 1.0, 10.0]
    assert sensitivity.good_band(lrs, [1.0, 0.1, 0.1, 1.0], 0.2) == pytest.approx(1.0 + 2 * (0.1 / 0.9))
    assert sensitivity.good_band(lrs, [0.1, 0.1, 0.1, 0.1], 0.2) == pytest.approx(3.0)
    assert sensitivity.good_band(lrs, [1.0, 1.0, 1.0, 1.0], 0.2) == 0.0
    # next to a diverged point the band stops at the last good grid point
    assert sensitivity.good_band(lrs, [1.0, 0.1, 0.1, np.inf], 0.2) == pytest.approx(1.0 + 0.1 / 0.9)
    with pytest.raises(lrlab.ParameterError):
        sensitivity.good_band([1.0, 0.1], [0.1, 0.1], 0.2)


def test_final_and_spread_read_a_fit_many_history_with_a_diverged_model():
    configs = pd.DataFrame({"model": [0, 1], "lr": [0.1, 10.0]})
    history = pd.DataFrame({"model": [0, 0, 1], "epoch": [0, 1, 0], "loss": [1.0, 0.5, np.nan],
                            "val_loss": [1.1, 0.6, np.nan], "status": ["ok", "ok", "diverged"]})
    history.attrs["configs"] = configs
    out = sensitivity.final(history, 2, seed=7)
    assert out.lr.tolist() == [0.1, 10.0] and out.seed.tolist() == [7, 7]
    assert out.diverged.tolist() == [False, True]
    assert out.val_loss.tolist() == [0.6, np.inf]
    table = sensitivity.spread(pd.concat([out, out.assign(seed=8, val_loss=[0.8, np.inf])]), "lr", "val_loss")
    assert table["mean"].tolist() == [pytest.approx(0.7), np.inf]
    assert table["n"].tolist() == [2, 2]
    with pytest.raises(lrlab.ParameterError):
        sensitivity.final(pd.DataFrame({"a": [1]}), 1)


# ----------------------------------------------------------------------------------------
# lrlab.numpy_adam
# ----------------------------------------------------------------------------------------
def test_decoupled_adam_by_hand_is_the_frameworks_adamw_and_l2_differs():
    from lrlab import torch as lpt

    data = digits(seed=0)
    configs = many.grid(lr=[0.001, 0.03], weight_decay=[0.0, 0.1])
    lrs, decays = [c["lr"] for c in configs], [c["weight_decay"] for c in configs]
    history = lpt.fit_many(lpt.mlp((64, 10), output_activation="softmax", seed=3), data.train, data.val,
                           optimizer="adamw", loss="categorical_crossentropy", epochs=2, batch_size=64,
                           configs=configs, seed=3)
    framework = sensitivity.final(history, 2).val_loss.to_numpy()
    decoupled = numpy_adam.adam_softmax(data.train, data.val, lrs, decays, coupled=False, seed=3, epochs=2,
                                        batch_size=64)
    coupled = numpy_adam.adam_softmax(data.train, data.val, lrs, decays, coupled=True, seed=3, epochs=2,
                                      batch_size=64)
    np.testing.assert_allclose(decoupled, framework, rtol=1e-5)
    no_decay = np.array(decays) == 0
    np.testing.assert_allclose(coupled[no_decay], decoupled[no_decay], rtol=1e-6)
    assert np.all(np.abs(coupled[~no_decay] - decoupled[~no_decay]) > 1e-3)


def test_adam_softmax_rejects_bad_input():
    data = digits(seed=0)
    with pytest.raises(lrlab.ParameterError, match="same length"):
        numpy_adam.adam_softmax(data.train, data.val, [0.1, 0.2], [0.0], coupled=True)
    with pytest.raises(lrlab.ParameterError, match="decays"):
        numpy_adam.adam_softmax(data.train, data.val, [0.1], [-1.0], coupled=True)


# ----------------------------------------------------------------------------------------
# lrlab.data.Wells
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("surface", [Wells(), Wells(depths=(2.0, 0.8, 1.2)), Wells(0.1, (0.0,), (1.0,), (0.5,))])
def test_wells_minima_are_where_the_gradient_vanishes_with_the_stated_curvature(surface):
    minima = surface.minima()
    assert np.abs(surface.grad(minima.w)).max() < 1e-9
    h = 1e-4
    numeric = (surface.loss(minima.w + h) - 2 * surface.loss(minima.w) + surface.loss(minima.w - h)) / h**2
    np.testing.assert_allclose(minima.curvature, numeric, rtol=1e-4)
    assert (minima.curvature > 0).all() and minima["global"].sum() == 1
    w = np.linspace(-4, 4, 101)
    np.testing.assert_allclose(surface.grad(w), (surface.loss(w + h) - surface.loss(w - h)) / (2 * h), atol=1e-6)


def test_wells_default_matches_its_docstring_and_basins_follow_small_steps():
    surface = Wells()
    minima = surface.minima()
    np.testing.assert_allclose(minima.w, [-2.3219, 0.4974, 2.4946], atol=1e-4)
    np.testing.assert_allclose(minima.loss, [-0.7172, -0.9502, -1.3506], atol=1e-4)
    assert minima["global"].tolist() == [False, False, True]
    starts = np.linspace(-4.5, 4.5, 37)
    w = starts.copy()
    for _ in range(4000):  # small constant steps: each start ends in the minimum of its basin
        w = w - 0.01 * surface.grad(w)
    assert surface.landed(w).tolist() == surface.basin(starts).tolist()
    assert surface.landed(10.0) == -1


def test_wells_rejects_bad_parameters():
    with pytest.raises(ValueError, match="same length"):
        Wells(centres=(0.0, 1.0))
    with pytest.raises(lrlab.ParameterError, match="widths"):
        Wells(widths=(1.0, 0.0, 1.0))
