"""fit_many: M models trained together equal M separate fit calls (lrlab.many, lrlab.backend, lrlab._*_many).

Tolerances, on losses, metrics and LRs of every epoch (absolute; the losses are ~0.3–0.7):

* float32: ``FLOAT32_TOL = 2e-6``, the parity tests' float32 bar. Measured <= 1.2e-7: the
  batched products (``einsum``/``bmm`` over the model axis) sum in another order than the
  single model's ``Dense``/``Linear``, a few ulps per update.
* float64: ``FLOAT64_TOL = 1e-12``. Measured 0 (TF: bit for bit) and ~2e-16 (torch), for
  every optimizer with its usual hyperparameters. This is the proof that each backend's batched
  update is its own framework's optimizer, formula for formula and rounding for rounding
  (Keras's momentum ``v ← μv − ηg`` and torch's ``b ← μb + g`` differ under a schedule, and
  each backend's ``fit_many`` follows its own). The LRs here are values float32 holds exactly
  (powers of two, halving schedules): Keras keeps its LR in float32 and computes a schedule with
  its own float32 ``pow``, which may round one ulp away from the float64 reference ``s(k)``
  that ``fit_many`` rounds to float32.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lrlab
from lrlab import many, schedules, training
from lrlab.data import seed001_task

FLOAT32_TOL = 2e-6
FLOAT64_TOL = 1e-12
LAYERS = (20, 16, 8, 1)
VALUES = ["lr", "loss", "accuracy", "val_loss", "val_accuracy"]


@pytest.fixture(scope="module", params=("tf", "torch"))
def backend(request):
    return lrlab.load_backends(request.param)[request.param]


@pytest.fixture(scope="module")
def task():
    split = seed001_task(n_train=200, n_test=10)
    return training.holdout(split.x_train, split.y_train, 0.2)


def _halving(initial_lr):
    """Return a schedule whose every value float32 holds exactly: ``initial_lr·0.5^floor(k/3)``."""
    return schedules.make("exponential", initial_lr=initial_lr, decay_steps=3, decay_rate=0.5, staircase=True)


def _solo(backend, task, name, config, dtype, **kw):
    """Return the history of ``fit`` alone for one configuration (the reference)."""
    config = dict(config)
    lr, seed = config.pop("lr"), config.pop("init_seed", 0)
    model = backend.mlp(LAYERS, seed=seed, dtype=dtype)
    return backend.fit(model, *task, optimizer=backend.optimizer(name, lr, **config), loss="binary_crossentropy",
                       epochs=3, batch_size=32, seed=5, **kw)


def _gap(many_history, solo, m) -> float:
    rows = many_history[many_history.model == m]
    assert rows.epoch.tolist() == solo.epoch.tolist() and rows.status.tolist() == solo.status.tolist()
    return float(np.max(np.abs(rows[VALUES].to_numpy(np.float64) - solo[VALUES].to_numpy(np.float64))))


CASES = [
    ("sgd", [{"lr": 0.25}, {"lr": _halving(0.5), "init_seed": 7}]),
    ("momentum", [{"lr": 2**-5}, {"lr": _halving(2**-4), "momentum": 0.5, "init_seed": 7}]),
    ("adam", [{"lr": 2**-7}, {"lr": _halving(2**-5), "beta_1": 0.8, "init_seed": 7}]),
]


@pytest.mark.parametrize("name, configs", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype, tol", [("float32", FLOAT32_TOL), ("float64", FLOAT64_TOL)])
def test_fit_many_equals_separate_fits(backend, task, name, configs, dtype, tol):
    history = backend.fit_many(backend.mlp(LAYERS, seed=0, dtype=dtype), *task, optimizer=name,
                               loss="binary_crossentropy", epochs=3, batch_size=32, seed=5, configs=configs)
    assert sorted(set(history.model)) == [0, 1] and (history.status == "ok").all()
    for m, config in enumerate(configs):
        assert _gap(history, _solo(backend, task, name, config, dtype), m) <= tol
    assert history.loss.iloc[2] < history.loss.iloc[0]  # model 0 did learn


def test_fit_many_per_epoch_schedule_and_optimizer_defaults(backend, task):
    """A schedule counting epochs; the base optimizer(...) supplies what a configuration leaves out."""
    s = _halving(2**-5)
    base = backend.optimizer("adamw", 2**-6, weight_decay=0.1, beta_2=0.99)
    configs = [{}, {"lr": s, "weight_decay": 0.0}]
    history = backend.fit_many(backend.mlp(LAYERS, seed=0, dtype="float64"), *task, optimizer=base,
                               loss="binary_crossentropy", epochs=3, batch_size=32, seed=5, configs=configs,
                               schedule_unit="epoch")
    np.testing.assert_array_equal(history[history.model == 1].lr, s(np.arange(3)))
    for m, config in enumerate(configs):
        full = {"lr": base.lr, **base.hyper, **config}
        solo = _solo(backend, task, "adamw", full, "float64", schedule_unit="epoch")
        assert _gap(history, solo, m) <= FLOAT64_TOL


@pytest.mark.parametrize("loss, output, activation, metric", [
    ("categorical_crossentropy", "softmax", "tanh", "accuracy"),
    ("mse", "sigmoid", "sigmoid", "mae"),
    ("mse", "softmax", "linear", "mae"),
])
def test_other_losses_and_activations_equal_separate_fits(backend, loss, output, activation, metric):
    """The hand-written gradients of every loss, output and hidden activation (float64, so to rounding)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5))
    y = training.one_hot(rng.integers(0, 3, 40), 3)
    layers = (5, 7, 3)
    configs = [{"lr": 2**-4}, {"lr": 2**-2, "momentum": 0.5}]
    history = backend.fit_many(backend.mlp(layers, activation, output, dtype="float64"), (x[:30], y[:30]),
                               (x[30:], y[30:]), optimizer="nesterov", loss=loss, metric=metric, epochs=3,
                               batch_size=8, configs=configs)
    for m, config in enumerate(configs):
        config = dict(config)
        lr = config.pop("lr")
        solo = backend.fit(backend.mlp(layers, activation, output, dtype="float64"), (x[:30], y[:30]),
                           (x[30:], y[30:]), optimizer=backend.optimizer("nesterov", lr, **config), loss=loss,
                           metric=metric, epochs=3, batch_size=8)
        rows = history[history.model == m]
        columns = ["lr", "loss", metric, "val_loss", f"val_{metric}"]
        np.testing.assert_allclose(rows[columns].to_numpy(np.float64), solo[columns].to_numpy(np.float64),
                                   rtol=0, atol=FLOAT64_TOL)


def test_both_backends_agree(task):
    """The parity of lrlab.tf and lrlab.torch carries over to fit_many (float64, hyperparameters float32 holds)."""
    backends = lrlab.load_backends("tf,torch")
    configs = many.grid(lr=[2**-7, 2**-5], beta_1=[0.875, 0.75])  # Keras rounds β through float32, torch not
    out = {name: b.fit_many(training.MLPSpec(LAYERS, dtype="float64"), *task, optimizer="adam",
                            loss="binary_crossentropy", epochs=2, configs=[c | {"beta_2": 1 - 2**-10}
                                                                           for c in configs])
           for name, b in backends.items()}
    pd.testing.assert_frame_equal(out["tf"], out["torch"], check_exact=False, atol=FLOAT64_TOL, rtol=0)


# ----------------------------------------------------------------------------------------
# divergence
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    return x, x @ np.array([[1.0], [2.0], [3.0]], dtype=np.float32)


def _linear_many(backend, data, lrs, name="momentum"):
    return backend.fit_many(backend.mlp((3, 1), output_activation="linear"), data, data, optimizer=name,
                            loss="mse", epochs=12, batch_size=8, configs=[{"lr": lr} for lr in lrs])


def test_a_diverging_model_is_masked_and_the_others_train_on(backend, linear, capfd):
    history = _linear_many(backend, linear, [0.01, 10.0, 0.02])
    bad = history[history.model == 1]
    assert bad.status.iloc[-1] == "diverged" and (bad.status.iloc[:-1] == "ok").all() and len(bad) < 12
    assert not np.isfinite(bad[["loss", "val_loss"]].iloc[-1]).all()
    solo = backend.fit(backend.mlp((3, 1), output_activation="linear"), linear, linear,
                       optimizer=backend.optimizer("momentum", 10.0), loss="mse", epochs=12, batch_size=8)
    assert solo.status.tolist() == bad.status.tolist()  # it diverged in the same epoch as on its own
    without = _linear_many(backend, linear, [0.01, 0.02])
    for m, lr in ((0, 0.01), (2, 0.02)):
        rows = history[history.model == m]
        assert len(rows) == 12 and (rows.status == "ok").all()
        np.testing.assert_array_equal(rows[["loss", "val_loss"]].to_numpy(),
                                      without[without.model == (m // 2)][["loss", "val_loss"]].to_numpy())
        solo = backend.fit(backend.mlp((3, 1), output_activation="linear"), linear, linear,
                           optimizer=backend.optimizer("momentum", lr), loss="mse", epochs=12, batch_size=8)
        np.testing.assert_allclose(rows.loss, solo.loss, rtol=1e-5)
    assert capfd.readouterr().err == ""


def test_tf_reuses_its_compiled_trainer_without_carrying_state(linear):
    """lrlab._tf_many keeps compiled trainers by graph signature; a reused one starts exactly like a new one."""
    from lrlab import _tf_many as tf_many
    from lrlab import tf as ltf

    tf_many._CACHE.clear()
    first = _linear_many(ltf, linear, [0.01, 10.0])  # model 1 diverges and is frozen
    x, y = linear
    other = (x[::-1].copy(), y[::-1].copy())
    reused = _linear_many(ltf, other, [0.02, 0.03], name="momentum")
    assert len(tf_many._CACHE) == 1 and (first.status == "diverged").any()
    tf_many._CACHE.clear()
    pd.testing.assert_frame_equal(reused, _linear_many(ltf, other, [0.02, 0.03], name="momentum"))


def test_all_diverging_ends_the_run(backend, linear):
    history = _linear_many(backend, linear, [10.0, 20.0], name="sgd")
    assert (history.groupby("model").status.last() == "diverged").all() and history.epoch.max() < 11


# ----------------------------------------------------------------------------------------
# the table, configurations and devices
# ----------------------------------------------------------------------------------------
def test_history_columns_and_configurations(backend, task):
    s = _halving(0.1)
    configs = pd.DataFrame({"lr": [0.1, s], "momentum": [0.9, 0.5], "init_seed": [1, 2]})
    history = backend.fit_many(backend.mlp(LAYERS), task[0], optimizer="momentum", loss="binary_crossentropy",
                               epochs=2, configs=configs)
    assert list(history.columns) == ["model", "momentum", "init_seed", "schedule", "epoch", "lr", "loss",
                                     "accuracy", "val_loss", "val_accuracy", "status"]
    assert history.model.tolist() == [0, 0, 1, 1] and history.epoch.tolist() == [0, 1, 0, 1]
    assert history.momentum.tolist() == [0.9, 0.9, 0.5, 0.5] and history.init_seed.tolist() == [1, 1, 2, 2]
    assert history.schedule.iloc[2] == repr(s) and pd.isna(history.schedule.iloc[0])
    assert history.val_loss.isna().all() and list(history.attrs["configs"].columns) == ["model", "lr", "momentum",
                                                                                      "init_seed"]
    empty = backend.fit_many(backend.mlp(LAYERS), task[0], optimizer="sgd", loss="binary_crossentropy", epochs=0,
                             configs=[{"lr": 0.1}])
    assert len(empty) == 0 and "status" in empty.columns


def test_grid_is_the_cartesian_product():
    assert many.grid(lr=np.array([0.1, 0.2]), momentum=[0.0, 0.9]) == [
        {"lr": 0.1, "momentum": 0.0}, {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.2, "momentum": 0.0}, {"lr": 0.2, "momentum": 0.9}]
    for bad in ({}, {"lr": []}, {"lr": 0.1}):
        with pytest.raises(lrlab.ParameterError):
            many.grid(**bad)


def test_lr_table_evaluates_each_schedule_per_update():
    s = _halving(1.0)
    table = many.lr_table([0.5, s], epochs=2, steps_per_epoch=4, schedule_unit="step")
    np.testing.assert_array_equal(table, [[0.5] * 8, s(np.arange(8))])
    per_epoch = many.lr_table([s], epochs=2, steps_per_epoch=4, schedule_unit="epoch")
    np.testing.assert_array_equal(per_epoch, [[1.0] * 4 + [float(s(1))] * 4])


@pytest.mark.parametrize("kwargs, message", [
    ({"configs": []}, "configs = \\[\\] is not allowed"),
    ({"configs": {"lr": [0.1]}}, "expected a non-empty list of dicts"),
    ({"configs": [{"lr": 0.1}, {"lr": 0.1, "momentun": 0.9}]}, "configs\\[1\\]: momentun = 0.9 is not allowed"),
    ({"configs": [{"momentum": 0.9}]}, "configs\\[0\\] = .* needs an lr"),
    ({"configs": [{"lr": -1.0}]}, "configs\\[0\\]: lr = -1.0 is not allowed"),
    ({"configs": [{"lr": 0.1, "momentum": 1.5}]}, "configs\\[0\\]: momentum = 1.5 is not allowed"),
    ({"configs": [{"lr": 0.1, "init_seed": -2}]}, "configs\\[0\\]: init_seed = -2 is not allowed"),
    ({"optimizer": "adam", "configs": [{"lr": 0.1, "momentum": 0.9}]}, "not allowed for optimizer 'adam'"),
    ({"optimizer": "lbfgs"}, "optimizer = 'lbfgs' is not allowed"),
    ({"device": "tpu"}, "device = 'tpu' is not allowed"),
    ({"device": "gpu"}, "device = 'gpu' is not allowed; .* sees no GPU"),
    ({"epochs": -1}, "epochs = -1"),
    ({"loss": "mse", "metric": "accuracy"}, "metric = 'accuracy' is not allowed with loss = 'mse'"),
])
def test_fit_many_rejects_bad_arguments(backend, task, kwargs, message):
    args = {"optimizer": "momentum", "loss": "binary_crossentropy", "epochs": 1, "configs": [{"lr": 0.1}]} | kwargs
    with pytest.raises(lrlab.ParameterError, match=message):
        backend.fit_many(backend.mlp(LAYERS), task[0], **args)
    with pytest.raises(lrlab.ParameterError, match="model = .* is not allowed"):
        backend.fit_many(object(), task[0], **(args | {"optimizer": "sgd"}))


def test_device_selection():
    assert many.select_device(None, False, "x") == "cpu" and many.select_device(None, True, "x") == "gpu"
    assert many.select_device("cuda", True, "x") == "gpu" and many.select_device("cpu", True, "x") == "cpu"
    with pytest.raises(lrlab.ParameterError, match="device = 'cuda' is not allowed; x sees no GPU"):
        many.select_device("cuda", False, "x")


def test_backends_pick_the_gpu_when_there_is_one(monkeypatch):
    from lrlab import _tf_many, _torch_many
    from lrlab import tf as ltf  # the public device_name of each backend
    from lrlab import torch as lpt

    assert lpt.device_name() == "cpu" and ltf.device_name() == "/CPU:0"  # CI has no GPU
    monkeypatch.setattr(_torch_many.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(_tf_many.tf.config, "list_physical_devices", lambda kind=None: ["GPU:0"])
    assert lpt.device_name() == lpt.device_name("gpu") == "cuda"
    assert ltf.device_name() == ltf.device_name("cuda") == "/GPU:0"
    assert lpt.device_name("cpu") == "cpu" and ltf.device_name("cpu") == "/CPU:0"
