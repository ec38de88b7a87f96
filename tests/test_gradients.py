"""lrlab.gradients (C004-1b): gradient norms by each framework's autodiff, and the SGD trace that equals fit."""

import math

import numpy as np
import pytest

from lrlab import gradients, training
from lrlab.params import ParameterError

SPEC = training.check_mlp((5, 4, 3), "relu", "softmax")


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)), training.one_hot(rng.integers(0, 3, n), 3)


def _loss_at(weights, x, y, j, which, idx, delta):
    w = [(k.copy(), b.copy()) for k, b in weights]
    w[j][which][idx] += delta
    return training.initial_loss(SPEC, w, x, y, "categorical_crossentropy")


def _finite_difference_norm(weights, x, y, h=1e-6):
    grads = []
    for j, (k, b) in enumerate(weights):
        for which, a in ((0, k), (1, b)):
            for idx in np.ndindex(a.shape):
                up, down = (_loss_at(weights, x, y, j, which, idx, d) for d in (h, -h))
                grads.append((up - down) / (2 * h))
    return float(np.linalg.norm(grads))


@pytest.mark.parametrize("framework", gradients.FRAMEWORKS)
def test_gradient_norm_matches_finite_differences(framework):
    x, y = _data()
    w = training.initial_weights(SPEC, 3)
    w = [(k, b + 0.1) for k, b in w]  # non-zero biases, so their gradients count too
    expected = _finite_difference_norm(w, x, y)
    assert gradients.gradient_norm(framework, SPEC, w, x, y, "categorical_crossentropy") == pytest.approx(
        expected, rel=1e-6)


def test_gradient_norm_of_non_finite_weights_is_inf():
    x, y = _data()
    w = training.initial_weights(SPEC, 0)
    w[0][0][0, 0] = np.nan
    assert gradients.gradient_norm("torch", SPEC, w, x, y, "categorical_crossentropy") == math.inf


def test_bad_arguments_are_named():
    x, y = _data()
    with pytest.raises(ParameterError, match="framework"):
        gradients.gradient_norm("jax", SPEC, training.initial_weights(SPEC, 0), x, y, "categorical_crossentropy")
    with pytest.raises(ParameterError, match="layers"):
        gradients.gradient_norm("torch", SPEC, training.initial_weights(SPEC, 0)[:1], x, y,
                                "categorical_crossentropy")


@pytest.mark.parametrize("framework", gradients.FRAMEWORKS)
def test_sgd_trace_epoch_losses_equal_fit(framework):
    import importlib

    backend = importlib.import_module(f"lrlab.{framework}")
    x, y = _data(n=20)
    model = backend.mlp((5, 4, 3), "relu", "softmax", seed=2)
    history = backend.fit(model, (x, y), optimizer=backend.optimizer("sgd", 0.5), loss="categorical_crossentropy",
                          epochs=4, batch_size=8, seed=1)
    trace = gradients.sgd_trace(framework, SPEC, training.initial_weights(SPEC, 2), (x, y), lr=0.5,
                                loss="categorical_crossentropy", epochs=4, batch_size=8, seed=1)
    assert len(trace) == 4 * 3 and list(trace.columns) == ["epoch", "update", "loss", "grad_norm"]
    np.testing.assert_allclose(trace.attrs["epoch_loss"], history.loss.to_numpy(), rtol=1e-10)
    first = gradients.gradient_norm(framework, SPEC, training.initial_weights(SPEC, 2),
                                    x[next(training.epoch_orders(20, 1, 1))[:8]],
                                    y[next(training.epoch_orders(20, 1, 1))[:8]], "categorical_crossentropy")
    assert trace.grad_norm.iloc[0] == pytest.approx(first, rel=1e-12)


def test_sgd_trace_stops_at_divergence():
    x, y = _data(n=20)
    trace = gradients.sgd_trace("torch", SPEC, training.initial_weights(SPEC, 0), (x * 50, y), lr=1e3,
                                loss="categorical_crossentropy", epochs=20, batch_size=8)
    assert trace.epoch.max() < 19
    assert training.is_diverged(trace.attrs["epoch_loss"][-1], trace.attrs["initial_loss"])
