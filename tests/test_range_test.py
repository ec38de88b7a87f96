"""Tests of the LR range test (E002-1, E004-2, C001-2): lrlab.range_test and the backends' lr_range_test."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrlab
from lrlab import data, range_test, training

BACKENDS = ("tf", "torch")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return lrlab.load_backends(request.param)[request.param]


@pytest.fixture(scope="module")
def digits():
    d = data.digits()
    return (d.train[0][:256], d.train[1][:256]), (d.val[0][:100], d.val[1][:100])


# ----------------------------------------------------------------------------------------
# the ramp, the smoothing, the stop rule
# ----------------------------------------------------------------------------------------
def test_exponential_ramp_goes_from_start_to_end_in_equal_log_steps():
    s = range_test.ramp(1e-7, 10.0, 100, "exp")
    lrs = s(np.arange(100))
    assert lrs[0] == pytest.approx(1e-7, rel=1e-12) and lrs[-1] == pytest.approx(10.0, rel=1e-12)
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, (1e8) ** (1 / 99), rtol=1e-10)


def test_linear_ramp_goes_from_start_to_end_in_equal_steps():
    s = range_test.ramp(0.01, 1.0, 11, "linear")
    np.testing.assert_allclose(s(np.arange(11)), np.linspace(0.01, 1.0, 11), rtol=1e-12)


@pytest.mark.parametrize("kwargs, name", [
    ({"start_lr": 1.0, "end_lr": 0.1}, "end_lr"),
    ({"start_lr": 0.0}, "start_lr"),
    ({"num_it": 1}, "num_it"),
    ({"mode": "cosine"}, "mode"),
])
def test_bad_ramp_raises_naming_the_parameter(kwargs, name):
    args = {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100, "mode": "exp", **kwargs}
    with pytest.raises(ValueError, match=name):
        range_test.ramp(**args)


def test_smoothing_is_the_bias_corrected_average():
    rng = np.random.default_rng(0)
    losses = rng.random(50) + 1
    beta = 0.9
    expected, a = [], 0.0
    for i, loss in enumerate(losses):
        a = beta * a + (1 - beta) * loss
        expected.append(a / (1 - beta ** (i + 1)))
    np.testing.assert_allclose(range_test.smooth(losses, beta), expected, rtol=1e-12)
    assert range_test.smooth(losses, beta)[0] == losses[0]  # the correction removes the bias towards 0
    np.testing.assert_allclose(range_test.smooth(np.full(20, 2.5), 0.98), 2.5, rtol=1e-12)
    np.testing.assert_array_equal(range_test.smooth(losses, 0.0), losses)


def test_stop_rule_factor_and_non_finite():
    assert range_test.stop_index([1.0, 0.5, 1.9, 2.1, 0.1], beta=0.0, stop_factor=4.0) == 3
    assert range_test.stop_index([1.0, 0.5, 1.9, 2.1], beta=0.0, stop_factor=None) is None
    assert range_test.stop_index([1.0, 0.9, math.nan, 0.5], beta=0.0, stop_factor=None) == 2
    assert range_test.stop_index([1.0, 0.9, math.inf], beta=0.98) == 2
    assert range_test.stop_index([1.0, 0.9, 0.8]) is None
    # with smoothing the same jump is damped: 10x the best raw loss does not make S exceed 4x at once
    assert range_test.stop_index([1.0] * 10 + [10.0], beta=0.98) is None


# ----------------------------------------------------------------------------------------
# suggestions
# ----------------------------------------------------------------------------------------
LRS = np.logspace(-4, 1, 30)


def test_steep_is_the_left_end_of_the_steepest_segment_in_log_lr():
    losses = np.full(30, 2.0)
    losses[12:] = 1.5
    losses[13:] = 1.4  # the drop 2.0 -> 1.5 between points 11 and 12 is the steepest
    assert range_test.steep(LRS, losses) == LRS[11]


def test_minimum_is_a_tenth_of_the_lr_of_the_lowest_loss():
    losses = np.abs(np.arange(30) - 20.0)
    assert range_test.minimum(LRS, losses) == pytest.approx(LRS[20] / 10)


def test_valley_is_halfway_down_the_longest_decreasing_run():
    losses = np.concatenate([np.linspace(3, 1, 10), np.linspace(1.1, 5, 20)])
    # D_e = 10 at e = 9, s = -1, d = 10/3: index -1 + 3 + 1 = 3
    assert range_test.valley(LRS, losses) == LRS[3]
    # a noisy plateau first: the longest decreasing subsequence skips the bumps
    losses = np.array([3.0, 3.1, 2.9, 3.0, 2.8, 2.0, 1.0, 0.5, 2.0, 4.0])
    # D = [1, 1, 2, 2, 3, 4, 5, 6, 4, 1]: e = 7, s = 1, d = 2: index 1 + 2 + 1 = 4
    assert range_test.valley(LRS[:10], losses) == LRS[4]


def test_slide_walks_left_until_the_slopes_agree():
    losses = np.zeros(30)
    losses[25:] = [0.5, 1.5, 3.0, 5.0, 8.0]
    # np.gradient is 0 up to index 23 and not 0 from 24: the last differing pair is (24, 9)
    assert range_test.slide(LRS, losses) == LRS[9]
    # a straight line: the slopes agree everywhere, the first pair's left point is kept
    assert range_test.slide(LRS, np.linspace(3, 1, 30)) == LRS[30 - 1 - 15]
    with pytest.raises(ValueError, match="lr_diff"):
        range_test.slide(LRS[:10], np.ones(10))


def test_suggest_trims_and_cuts_at_the_first_non_finite_value():
    losses = np.concatenate([np.linspace(3, 1, 20), [2.0, math.nan, 1e-9, 1e-9, 1e-9]])
    out = range_test.suggest(LRS[:25], losses, skip_start=2, skip_end=0)
    assert set(out) == {"valley", "slide", "minimum", "steep"}
    assert out["minimum"] == pytest.approx(LRS[19] / 10)  # the 1e-9 after the NaN is never seen
    assert math.isnan(range_test.suggest(LRS[:8], np.ones(8), 5, 2)["valley"])  # one point left


# ----------------------------------------------------------------------------------------
# the backends
# ----------------------------------------------------------------------------------------
def _model(backend):
    return backend.mlp((64, 16, 10), "relu", "softmax", seed=3)


def test_range_test_restores_weights_and_records_the_ramp(backend, digits):
    train, _ = digits
    model = _model(backend)
    before = backend.weights(model)
    result = backend.lr_range_test(model, train, loss="categorical_crossentropy", start_lr=1e-4, end_lr=1.0,
                                   num_it=30, batch_size=32)
    for (k0, b0), (k1, b1) in zip(before, backend.weights(model)):
        np.testing.assert_array_equal(k0, k1)
        np.testing.assert_array_equal(b0, b1)
    h = result.history
    assert list(h.columns) == ["iteration", "lr", "loss", "accuracy", "smooth_loss", "diverged"]
    assert h.iteration.tolist() == list(range(30)) and result.stop_reason == "end of the ramp"
    np.testing.assert_allclose(h.lr, np.logspace(-4, 0, 30), rtol=1e-5)  # float32 in Keras
    np.testing.assert_allclose(h.smooth_loss, range_test.smooth(h.loss, 0.98), rtol=1e-12)
    assert set(result.suggestions) == set(range_test.SUGGESTIONS)
    assert all(1e-4 <= v <= 1.0 for k, v in result.suggestions.items() if k != "minimum" and not math.isnan(v))


def test_range_test_stops_when_the_loss_blows_up(backend, digits):
    train, _ = digits
    result = backend.lr_range_test(_model(backend), train, loss="categorical_crossentropy", start_lr=1e-3,
                                   end_lr=1e4, num_it=120, batch_size=32)
    assert len(result.history) < 120
    assert result.stop_reason != "end of the ramp"
    last = result.history.smooth_loss.iloc[-1]
    assert not math.isfinite(last) or last > 4 * result.history.smooth_loss.iloc[:-1].min()


def test_epochwise_test_holds_each_lr_for_an_epoch_and_validates(backend, digits):
    train, val = digits
    result = backend.lr_range_test(_model(backend), train, val, optimizer="sgd", loss="categorical_crossentropy",
                                   start_lr=1e-3, end_lr=1.0, num_it=4, unit="epoch", beta=0.0, stop_factor=None)
    h = result.history
    assert list(h.columns) == ["iteration", "lr", "loss", "accuracy", "smooth_loss", "val_loss", "val_accuracy",
                               "diverged"]
    np.testing.assert_allclose(h.lr, [1e-3, 1e-2, 1e-1, 1.0], rtol=1e-5)
    np.testing.assert_array_equal(h.smooth_loss, h.loss)  # beta = 0: no smoothing
    # an epoch-wise test is fit() with the ramp counted in epochs: the same losses
    model = _model(backend)
    history = backend.fit(model, train, val, optimizer=backend.optimizer("sgd", range_test.ramp(1e-3, 1.0, 4)),
                          loss="categorical_crossentropy", epochs=4, batch_size=32, schedule_unit="epoch", seed=0)
    np.testing.assert_allclose(h.loss, history.loss, rtol=1e-6)
    np.testing.assert_allclose(h.val_accuracy, history.val_accuracy, rtol=1e-6)


def test_both_frameworks_run_the_same_test(digits):
    train, _ = digits
    backends = lrlab.load_backends("tf,torch")
    runs = {name: b.lr_range_test(_model(b), train, loss="categorical_crossentropy", start_lr=1e-4, end_lr=1.0,
                                  num_it=40, batch_size=32, seed=5)
            for name, b in backends.items()}
    np.testing.assert_allclose(runs["tf"].history.loss, runs["torch"].history.loss, rtol=1e-4)


def test_range_test_keeps_the_optimizer_hyperparameters(backend, digits):
    train, _ = digits
    result = backend.lr_range_test(_model(backend), train, optimizer=backend.optimizer("momentum", 0.5, momentum=0.8),
                                   loss="categorical_crossentropy", num_it=10)
    assert result.settings["optimizer"] == "momentum" and result.settings["momentum"] == 0.8
    assert result.history.lr.iloc[0] == pytest.approx(1e-7, rel=1e-5)  # the ramp replaced lr=0.5


@pytest.mark.parametrize("kwargs, name", [
    ({"end_lr": 1e-8}, "end_lr"),
    ({"optimizer": 3}, "optimizer"),
    ({"optimizer": "lbfgs"}, "name"),
    ({"unit": "batch"}, "unit"),
    ({"beta": 1.0}, "beta"),
    ({"stop_factor": 0.5}, "stop_factor"),
    ({"batch_size": 0}, "batch_size"),
])
def test_bad_arguments_raise_naming_the_parameter(backend, digits, kwargs, name):
    train, _ = digits
    with pytest.raises(lrlab.ParameterError, match=name):
        backend.lr_range_test(_model(backend), train, loss="categorical_crossentropy", **kwargs)


def test_range_test_plan_settings_are_json_able():
    plan = range_test.check_range_test("adam", start_lr=1e-6, end_lr=1.0, num_it=50, mode="linear", unit="step",
                                       beta=0.9, stop_factor=None)
    settings = plan.settings()
    assert settings["optimizer"] == "adam" and settings["skip_start"] == 5 and settings["skip_end"] == 5
    assert isinstance(plan.optimizer, training.OptimizerSpec)
    lrlab.records.to_json_value(settings)
