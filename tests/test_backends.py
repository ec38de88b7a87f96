"""Unit tests of the mirrored training backends lrlab.tf and lrlab.torch (and lrlab.training)."""

from __future__ import annotations

import numpy as np
import pytest

import lrlab
from lrlab import golden, schedules, training
from lrlab.data import E004_4_FINAL_W, Quadratic

BACKENDS = ("tf", "torch")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return lrlab.load_backends(request.param)[request.param]


def _e004_4_schedule():
    """Return E004-4's schedule, 0.1·0.99^k, as an lrlab schedule."""
    return schedules.make("exponential", initial_lr=0.1, decay_steps=1, decay_rate=0.99, staircase=True)


def test_backends_are_mirrored_name_for_name():
    import inspect

    backends = lrlab.load_backends("tf,torch")
    assert backends["tf"].__all__ == backends["torch"].__all__
    for name in backends["tf"].__all__:
        a, b = getattr(backends["tf"], name), getattr(backends["torch"], name)
        assert inspect.signature(a) == inspect.signature(b), name


def test_descend_constant_lr_is_the_hand_update(backend):
    q = Quadratic()
    trace = backend.descend(q.loss, 5.0, 0.1, 6)
    assert list(trace.columns) == list(training.DESCEND_COLUMNS)
    assert trace.step.tolist() == list(range(6))
    assert all(trace[c].dtype == np.float32 for c in training.DESCEND_COLUMNS[1:])
    w = np.float32(5.0)
    for row in trace.itertuples():
        w = np.float32(w - np.float32(0.1) * np.float32(q.grad(w)))
        assert row.w == w and row.loss == np.float32(q.loss(w))
        assert row.lr_used == row.lr_next == np.float32(0.1)


def _fused_update(backend) -> bool:
    """Whether this backend's SGD rounds ``w - lr*g`` once (a fused multiply-add) on this CPU.

    TensorFlow's table does not depend on the kernel settings we emulate; PyTorch rounds once in its
    AVX2/AVX-512 kernels and not in its scalar ones (``ATEN_CPU_CAPABILITY=default``),
    which is why its E004-4 table depends on the CPU (chapter 1).
    """
    if backend.__name__ == "lrlab.tf":
        return True
    import torch

    return torch.backends.cpu.get_cpu_capability() != "DEFAULT"


def test_descend_schedule_reproduces_the_published_table(backend):
    """Under every kernel setting the trace is the rule by hand, rounded as this CPU's kernels round.

    Fused: every printed value within one unit of the published last digit, final w exact.
    Unfused (PyTorch's scalar kernels): 88 of 120 exact, final w one unit off; chapter 1 shows both.
    """
    schedule = _e004_4_schedule()
    trace = backend.descend(Quadratic().loss, 5.0, schedule, 40)
    assert trace.lr_used.iloc[0] == np.float32(0.1)
    np.testing.assert_allclose(trace.lr_used.iloc[1:], trace.lr_next.iloc[:-1], rtol=1e-6)
    fused = _fused_update(backend)
    if backend.__name__ == "lrlab.torch":  # Keras computes the LRs with its own float32 pow; torch in float64
        assert golden.ulps_apart(trace.w, golden.reference_trace(5.0, schedule, 40, fused=fused).w) == 0
    comparison = golden.compare_with_published(trace)
    if fused:
        assert comparison.units_off.max() <= 1.0
        assert golden.final_w_text(trace) == E004_4_FINAL_W
    else:
        assert comparison.exact.sum() == 88 and golden.final_w_text(trace) == "-0.9957311"


def test_descend_zero_steps_and_divergence_are_results(backend):
    assert len(backend.descend(Quadratic().loss, 1.0, 0.1, 0)) == 0
    trace = backend.descend(Quadratic().loss, 5.0, 1.5, 5)
    assert np.all(np.diff(np.abs(trace.w.to_numpy() + 1)) > 0)


@pytest.mark.parametrize("args, message", [
    ((5.0, 0.1, -1), "steps = -1"),
    ((5.0, 0.1, 2.5), "steps = 2.5"),
    ((5.0, -0.1, 3), "lr = -0.1"),
    ((5.0, "fast", 3), "lr = 'fast'"),
    ((float("nan"), 0.1, 3), "w0 = nan"),
])
def test_descend_rejects_bad_arguments(backend, args, message):
    with pytest.raises(lrlab.ParameterError, match=message):
        backend.descend(Quadratic().loss, *args)


# ----------------------------------------------------------------------------------------
# the shared, framework-free pieces
# ----------------------------------------------------------------------------------------
def test_initial_weights_are_glorot_uniform_and_seeded():
    spec = training.check_mlp((20, 64, 32, 1), "relu", "sigmoid")
    first, again, other = (training.initial_weights(spec, s) for s in (0, 0, 1))
    assert [(k.shape, b.shape) for k, b in first] == [((20, 64), (64,)), ((64, 32), (32,)), ((32, 1), (1,))]
    for (k, b), (fan_in, fan_out) in zip(first, spec.shapes):
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert k.dtype == np.dtype(spec.dtype) == np.float64
        assert np.all(np.abs(k) <= limit) and np.abs(k).max() > 0.9 * limit
        assert not b.any()
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, again))
    assert not np.array_equal(first[0][0], other[0][0])


def test_epoch_orders_are_seeded_permutations():
    orders = list(training.epoch_orders(10, 3, seed=5))
    assert all(sorted(o) == list(range(10)) for o in orders)
    assert not np.array_equal(orders[0], orders[1])
    assert all(np.array_equal(a, b) for a, b in zip(orders, training.epoch_orders(10, 3, seed=5)))
    assert all(np.array_equal(o, np.arange(10)) for o in training.epoch_orders(10, 2, seed=5, shuffle=False))


def test_holdout_is_keras_validation_split():
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    x, y = np.arange(30.0).reshape(10, 3), np.arange(10.0)
    for fraction in (0.2, 0.25, 0.5):
        (xt, yt), (xv, yv) = training.holdout(x, y, fraction)
        (kxt, kyt), (kxv, kyv) = train_validation_split((x, y), fraction)
        assert np.array_equal(xt, kxt) and np.array_equal(yv, kyv)
    with pytest.raises(lrlab.ParameterError, match="fraction"):
        training.holdout(x[:1], y[:1], 0.2)


def test_optimizer_defaults_and_bad_keywords():
    spec = training.check_optimizer("adam", 0.01)
    assert spec.hyper == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
    assert training.check_optimizer("momentum", 0.1, momentum=0.5).hyper == {"momentum": 0.5}
    with pytest.raises(lrlab.ParameterError, match="weight_decay = 0.1 is not allowed for optimizer 'momentum'"):
        training.check_optimizer("momentum", 0.1, weight_decay=0.1)
    with pytest.raises(lrlab.ParameterError, match="momentum = 1.5"):
        training.check_optimizer("nesterov", 0.1, momentum=1.5)
    with pytest.raises(lrlab.ParameterError, match="name = 'lion'"):
        training.check_optimizer("lion", 0.1)


def test_adam_epsilon_maps_keras_form_onto_torch():
    # Keras: η·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v+ε) equals torch's η/(1−β₁ᵗ)·m/(√v/√(1−β₂ᵗ)+ε')
    m, v, eps, b2 = 0.3, 1e-14, 1e-8, 0.999
    for t in (1, 2, 10, 1000):
        keras_step = np.sqrt(1 - b2 ** t) * m / (np.sqrt(v) + eps)
        torch_step = m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + training.adam_epsilon(eps, b2, t))
        assert torch_step == pytest.approx(keras_step, rel=1e-12)
    assert training.adam_epsilon(eps, b2, 1) == pytest.approx(eps / np.sqrt(1e-3))


# ----------------------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------------------
def test_mlp_starts_from_the_numpy_weights(backend):
    spec = training.check_mlp((20, 64, 32, 1), "relu", "sigmoid")
    model = backend.mlp((20, 64, 32, 1), seed=3)
    for (k, b), (k0, b0) in zip(backend.weights(model), training.initial_weights(spec, 3)):
        assert np.array_equal(k, k0) and np.array_equal(b, b0)
    x = np.random.default_rng(0).random((5, 20), dtype=np.float32)
    h = np.maximum(x @ training.initial_weights(spec, 3)[0][0], 0)
    h = np.maximum(h @ training.initial_weights(spec, 3)[1][0], 0)
    expected = 1 / (1 + np.exp(-(h @ training.initial_weights(spec, 3)[2][0])))
    np.testing.assert_allclose(backend.predict(model, x), expected, rtol=1e-6)


def test_set_weights_round_trip_and_checks(backend):
    model = backend.mlp((4, 3, 2), "tanh", "softmax", seed=0)
    new = [(np.full((4, 3), 0.5), np.arange(3.0)), (np.ones((3, 2)), np.zeros(2))]
    backend.set_weights(model, new)
    assert all(np.array_equal(a, b) for pair, pair0 in zip(backend.weights(model), new) for a, b in zip(pair, pair0))
    with pytest.raises(lrlab.ParameterError, match="weights do not fit layers"):
        backend.set_weights(model, new[:1])


@pytest.mark.parametrize("kwargs, message", [
    ({"layers": (20,)}, "layers = "),
    ({"layers": (20, 0, 1)}, "layers = "),
    ({"layers": (20, 1), "activation": "gelu"}, "activation = 'gelu'"),
    ({"layers": (20, 1), "output_activation": "relu"}, "output_activation = 'relu'"),
    ({"layers": (20, 1), "dtype": "float16"}, "dtype = 'float16'"),
])
def test_mlp_rejects_bad_arguments(backend, kwargs, message):
    with pytest.raises(lrlab.ParameterError, match=message):
        backend.mlp(**kwargs)


# ----------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def task():
    from lrlab.data import seed001_task

    split = seed001_task(n_train=200, n_test=50)
    return split, training.holdout(split.x_train, split.y_train, 0.2)


def test_fit_history_columns_and_schedule_units(backend, task):
    _, (train, val) = task
    s = schedules.make("exponential", initial_lr=0.01, decay_steps=3, decay_rate=0.5, staircase=True)
    per_step = backend.fit(backend.mlp((20, 8, 1)), train, val, optimizer=backend.optimizer("adam", s),
                           loss="binary_crossentropy", epochs=4, batch_size=32, seed=0)
    assert list(per_step.columns) == ["epoch", "lr", "loss", "accuracy", "val_loss", "val_accuracy", "status"]
    assert per_step.epoch.tolist() == [0, 1, 2, 3] and set(per_step.status) == {"ok"}
    steps = -(-160 // 32)  # 5 updates an epoch, the last one last of the epoch
    np.testing.assert_allclose(per_step.lr, s(np.arange(4) * steps + steps - 1), rtol=1e-6)
    per_epoch = backend.fit(backend.mlp((20, 8, 1)), train, None, optimizer=backend.optimizer("adam", s),
                            loss="binary_crossentropy", epochs=4, batch_size=None, schedule_unit="epoch", seed=0)
    np.testing.assert_allclose(per_epoch.lr, s(np.arange(4)), rtol=1e-6)
    assert per_epoch.val_loss.isna().all() and (per_epoch.accuracy <= 1).all()


def test_fit_is_deterministic_and_evaluates_the_test_set(backend, task):
    split, (train, val) = task
    runs = []
    for _ in range(2):
        model = backend.mlp((20, 8, 1), seed=1)
        history = backend.fit(model, train, val, optimizer=backend.optimizer("momentum", 0.1),
                              loss="binary_crossentropy", epochs=3, seed=2)
        runs.append((history, backend.evaluate(model, split.test, loss="binary_crossentropy")))
    assert runs[0][0].equals(runs[1][0]) and runs[0][1] == runs[1][1]
    assert set(runs[0][1]) == {"loss", "accuracy"} and runs[0][1]["loss"] > 0


def test_fit_divergence_is_a_result(backend, capfd):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    model = backend.mlp((3, 1), output_activation="linear")
    history = backend.fit(model, (x, y), (x, y), optimizer=backend.optimizer("sgd", 10.0), loss="mse", epochs=50,
                          batch_size=8)
    assert history.status.iloc[-1] == "diverged" and (history.status.iloc[:-1] == "ok").all()
    assert len(history) < 50 and training.is_diverged(history.loss.iloc[-1], history.attrs["initial_loss"])
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("kwargs, message", [
    ({"loss": "hinge"}, "loss = 'hinge'"),
    ({"loss": "categorical_crossentropy"}, "needs output_activation = 'softmax'"),
    ({"metric": "mae", "loss": "mse"}, None),
    ({"metric": "accuracy", "loss": "mse"}, "metric = 'accuracy' is not allowed with loss = 'mse'"),
    ({"epochs": -1}, "epochs = -1"),
    ({"batch_size": 0}, "batch_size = 0"),
    ({"schedule_unit": "batch"}, "schedule_unit = 'batch'"),
    ({"optimizer": "adam"}, "optimizer = 'adam'"),
    ({"callbacks": [object()]}, "callbacks: "),
])
def test_fit_rejects_bad_arguments(backend, task, kwargs, message):
    _, (train, val) = task
    args = {"optimizer": backend.optimizer("sgd", 0.1), "loss": "binary_crossentropy", "epochs": 1} | kwargs
    if message is None:
        assert len(backend.fit(backend.mlp((20, 1)), train, val, **args)) == 1
        return
    with pytest.raises(lrlab.ParameterError, match=message):
        backend.fit(backend.mlp((20, 1)), train, val, **args)


def test_fit_rejects_data_of_the_wrong_shape(backend, task):
    _, (train, _) = task
    with pytest.raises(lrlab.ParameterError, match=r"train has x \(160, 20\), y \(160, 1\); expected x \(n, 5\)"):
        backend.fit(backend.mlp((5, 1)), train, optimizer=backend.optimizer("sgd", 0.1),
                    loss="binary_crossentropy", epochs=1)


# ----------------------------------------------------------------------------------------
# callbacks
# ----------------------------------------------------------------------------------------
def test_early_stopping_restores_the_best_weights_and_checkpoint_saves_them(backend, task, tmp_path):
    _, (train, val) = task
    model = backend.mlp((20, 32, 1), seed=0)
    stop = backend.EarlyStopping("val_loss", patience=3)
    checkpoint = backend.ModelCheckpoint(tmp_path / "best", "val_loss")
    history = backend.fit(model, train, val, optimizer=backend.optimizer("adam", 0.05),
                          loss="binary_crossentropy", epochs=200, seed=0, callbacks=[stop, checkpoint])
    assert stop.stopped_epoch == history.epoch.iloc[-1] == history.attrs["stopped_epoch"] < 199
    best = int(history.val_loss.idxmin())
    assert stop.best_epoch == checkpoint.best_epoch == best and stop.stopped_epoch == best + 3
    assert backend.evaluate(model, val, loss="binary_crossentropy")["loss"] == pytest.approx(stop.best, rel=1e-6)
    assert checkpoint.path.endswith(".keras" if backend.FRAMEWORK == "tf" else ".pt")
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.path.rsplit("/", 1)[1]]
    restored = backend.load_model(checkpoint.path)
    np.testing.assert_allclose(backend.predict(restored, val[0]), backend.predict(model, val[0]), rtol=1e-6)


def test_reduce_lr_on_plateau_follows_the_plateau_rule(backend, task):
    from lrlab.plateau import PlateauRule, rule_lrs

    _, (train, val) = task
    callback = backend.ReduceLROnPlateau("val_loss", factor=0.5, patience=1)
    history = backend.fit(backend.mlp((20, 32, 1)), train, val, optimizer=backend.optimizer("sgd", 2.0),
                          loss="binary_crossentropy", epochs=25, seed=0, callbacks=[callback])
    expected = rule_lrs(PlateauRule(factor=0.5, patience=1), history.val_loss, 2.0)
    np.testing.assert_allclose(callback.lrs, expected, rtol=1e-6)
    np.testing.assert_allclose(history.lr.iloc[1:], expected[:-1], rtol=1e-6)
    assert expected[-1] < 2.0


def test_callbacks_check_what_they_monitor(backend, task):
    _, (train, _) = task
    args = {"optimizer": backend.optimizer("sgd", 0.1), "loss": "binary_crossentropy", "epochs": 1}
    with pytest.raises(lrlab.ParameterError, match="monitor = 'val_loss' is not allowed for this fit"):
        backend.fit(backend.mlp((20, 1)), train, callbacks=[backend.EarlyStopping()], **args)
    s = schedules.make("exponential", initial_lr=0.1, decay_steps=1, decay_rate=0.9)
    with pytest.raises(lrlab.ParameterError, match="ReduceLROnPlateau needs a float lr"):
        backend.fit(backend.mlp((20, 1)), train, callbacks=[backend.ReduceLROnPlateau("loss")],
                    **(args | {"optimizer": backend.optimizer("sgd", s)}))
