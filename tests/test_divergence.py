"""lrlab's one divergence rule (training.is_diverged), the same in fit, fit_many and the range test, in both frameworks.

A run has diverged when its training loss is NaN, infinite, or above
``training.DIVERGENCE_FACTOR`` (10) times its initial loss (the mean training loss at
its initial weights, computed once in numpy). Before this rule a loss that exploded
but stayed finite (SGD at lr = 1e4 on a binary task: ~1e10) was reported "ok".
"""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from lrlab import training
from lrlab.data import seed001_task

LAYERS = (20, 8, 1)


@pytest.fixture(scope="module", params=("tf", "torch"))
def backend(request):
    return importlib.import_module(f"lrlab.{request.param}")


@pytest.fixture(scope="module")
def task():
    return seed001_task(n_train=400, n_test=100)


def test_rule_and_its_doctests():
    assert training.DIVERGENCE_FACTOR == 10.0
    assert training.is_diverged(7.4e9, 0.69) and training.is_diverged(np.nan, 0.69)
    assert training.is_diverged(np.inf, 0.69) and training.is_diverged(-np.inf, 0.69)
    assert not training.is_diverged(5.0, 0.5) and training.is_diverged(5.01, 0.5)
    assert training.is_diverged(np.array([0.1, 7.0, np.nan]), 0.69).tolist() == [False, True, True]
    failures, _ = doctest.testmod(training, optionflags=doctest.ELLIPSIS)
    assert failures == 0


@pytest.mark.parametrize("loss, output", [("binary_crossentropy", "sigmoid"), ("mse", "sigmoid"),
                                          ("categorical_crossentropy", "softmax"), ("mse", "linear")])
def test_initial_loss_is_what_both_frameworks_evaluate(backend, task, loss, output):
    """The numpy initial loss equals each framework's own loss at the initial weights (float32 rounding)."""
    outputs = 3 if output == "softmax" else 1
    y = np.eye(3, dtype=np.float32)[(task.x_train.sum(1) * 7).astype(int) % 3] if outputs == 3 else task.y_train
    spec = training.check_mlp((20, 16, outputs), "tanh", output)
    model = backend.mlp((20, 16, outputs), "tanh", output, seed=3)
    expected = backend.evaluate(model, (task.x_train, y), loss=loss)["loss"]
    assert training.initial_loss(spec, training.initial_weights(spec, 3), task.x_train, y, loss) == \
        pytest.approx(expected, rel=1e-5)


def test_a_finite_explosion_is_diverged(backend, task):
    """SGD at lr = 1e4 on the binary seed task: the first epoch's loss is finite but ~1e10 — diverged, run ended."""
    model = backend.mlp(LAYERS, "relu", "sigmoid", seed=0)
    history = backend.fit(model, task.train, task.test, optimizer=backend.optimizer("sgd", 1e4),
                          loss="binary_crossentropy", epochs=5, batch_size=32, seed=0)
    start = history.attrs["initial_loss"]
    assert 0.6 < start < 0.8 and history.status.tolist() == ["diverged"]
    assert np.isfinite(history.loss.iloc[0]) and history.loss.iloc[0] > 1e3 * start
    assert np.isnan(history.val_loss.iloc[0])


def test_a_normal_run_stays_ok(backend, task):
    model = backend.mlp(LAYERS, "relu", "sigmoid", seed=0)
    history = backend.fit(model, task.train, task.test, optimizer=backend.optimizer("sgd", 0.1),
                          loss="binary_crossentropy", epochs=5, batch_size=32, seed=0)
    assert (history.status == "ok").all() and len(history) == 5
    assert history.loss.max() < history.attrs["initial_loss"] * 1.5


def test_same_initial_loss_in_both_frameworks(task):
    starts = []
    for name in ("tf", "torch"):
        b = importlib.import_module(f"lrlab.{name}")
        starts.append(b.fit(b.mlp(LAYERS, "relu", "sigmoid", seed=1), task.train, optimizer=b.optimizer("sgd", 0.1),
                            loss="binary_crossentropy", epochs=1, seed=0).attrs["initial_loss"])
    assert starts[0] == starts[1]


LRS = [0.1, 3.0, 1e2, 1e4]


def test_fit_many_marks_the_same_models_diverged_as_separate_fits(backend, task):
    history = backend.fit_many(backend.mlp(LAYERS, "relu", "sigmoid", seed=0), task.train, task.test,
                               optimizer="sgd", loss="binary_crossentropy", epochs=4, batch_size=32,
                               configs=[{"lr": lr} for lr in LRS], seed=0)
    together = {m: g.status.tolist() for m, g in history.groupby("model")}
    starts = history.attrs["initial_loss"]
    separate = {}
    for m, lr in enumerate(LRS):
        h = backend.fit(backend.mlp(LAYERS, "relu", "sigmoid", seed=0), task.train, task.test,
                        optimizer=backend.optimizer("sgd", lr), loss="binary_crossentropy", epochs=4,
                        batch_size=32, seed=0)
        separate[m] = h.status.tolist()
        assert starts[m] == pytest.approx(h.attrs["initial_loss"], rel=1e-12)
    assert together == separate
    assert together[0] == ["ok"] * 4 and together[3] == ["diverged"]


def test_fit_many_models_with_their_own_initial_weights(backend, task):
    """Each model is compared with its own initial loss (init_seed)."""
    history = backend.fit_many(training.check_mlp(LAYERS, "relu", "sigmoid"), task.train, None, optimizer="sgd",
                               loss="binary_crossentropy", epochs=1, batch_size=32,
                               configs=[{"lr": 0.1, "init_seed": s} for s in (0, 1, 2)], seed=0)
    spec = training.check_mlp(LAYERS, "relu", "sigmoid")
    expected = [training.initial_loss(spec, training.initial_weights(spec, s), *task.train, "binary_crossentropy")
                for s in (0, 1, 2)]
    assert history.attrs["initial_loss"] == pytest.approx(expected, rel=1e-12)
    assert (history.status == "ok").all()


def test_range_test_records_divergence_by_the_same_rule(backend, task):
    model = backend.mlp(LAYERS, "relu", "sigmoid", seed=0)
    result = backend.lr_range_test(model, task.train, loss="binary_crossentropy", start_lr=1e-3, end_lr=1e4,
                                   num_it=40, stop_factor=None, batch_size=32, seed=0)
    h = result.history
    spec = training.check_mlp(LAYERS, "relu", "sigmoid")
    assert result.initial_loss == pytest.approx(
        training.initial_loss(spec, training.initial_weights(spec, 0), *task.train, "binary_crossentropy"), rel=1e-12)
    expected = [bool(training.is_diverged(loss, result.initial_loss)) for loss in h.loss]
    assert h.diverged.tolist() == expected and any(expected)
    assert result.diverged_lr == h.lr[h.diverged.idxmax()]
    quiet = backend.lr_range_test(model, task.train, loss="binary_crossentropy", start_lr=1e-4, end_lr=1e-2,
                                  num_it=20, batch_size=32, seed=0)
    assert not quiet.history.diverged.any() and np.isnan(quiet.diverged_lr)
