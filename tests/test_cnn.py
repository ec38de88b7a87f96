"""The small 1-D CNN (issue 17, item 2): both backends, one numpy start, fit / lr_range_test / fit_many.

Tolerances (float64, absolute, on per-epoch losses of ~0.5–2.3; MNIST-1D subset of
600 training and 200 validation rows, batches of 100, 3 epochs = 18 updates):

* TensorFlow against PyTorch, ``fit``, hyperparameters float32 holds exactly (Keras
  keeps its LR in float32 and rounds β's through float32, as for the MLP in
  tests/test_parity.py): ``PARITY_TOL = 1e-10``. Measured ~1e-15.
* ``fit_many`` against M separate ``fit`` calls of the same framework:
  ``MANY_TOL = 1e-10``. Measured ≤ 9e-16 (im2col + batched products against the
  frameworks' own convolutions: a different summation order, nothing else).
"""

from __future__ import annotations

import numpy as np
import pytest

import lrlab
from lrlab import data, training
from lrlab.params import ParameterError

PARITY_TOL = 1e-10
MANY_TOL = 1e-10
EXACT = {"beta_1": 0.875, "beta_2": 1 - 2**-10}
LOSS = "categorical_crossentropy"


@pytest.fixture(scope="module")
def backends():
    return lrlab.load_backends("tf,torch")


@pytest.fixture(scope="module")
def small():
    split = data.mnist1d()
    return (split.train[0][:600], split.train[1][:600]), (split.val[0][:200], split.val[1][:200])


def test_spec_lengths_shapes_and_published_architecture():
    spec = training.check_cnn()
    assert spec.lengths == [40, 19, 10, 5]
    assert spec.shapes == [(5, 1, 25), (3, 25, 25), (3, 25, 25), (125, 10)]
    assert training.check_cnn((8, 8), 3, length=16).kernel_size == (3, 3)
    weights = training.initial_weights(spec, 3)
    assert [k.shape for k, _ in weights] == spec.shapes and all(not b.any() for _, b in weights)
    np.testing.assert_array_equal(weights[1][0], training.initial_weights(spec, 3)[1][0])


@pytest.mark.parametrize("kw, name", [({"channels": ()}, "channels"), ({"kernel_size": (5, 3)}, "kernel_size"),
                                      ({"kernel_size": 50}, "kernel_size"), ({"stride": 0}, "stride"),
                                      ({"activation": "gelu"}, "activation")])
def test_bad_arguments_name_themselves(backends, kw, name):
    for backend in backends.values():
        with pytest.raises(ParameterError, match=name):
            backend.cnn(**kw)


def test_both_frameworks_start_equal_and_round_trip_weights(backends, small):
    tf, torch = backends["tf"], backends["torch"]
    a, b = tf.cnn(seed=5), torch.cnn(seed=5)
    expected = training.initial_weights(training.check_cnn(), 5)
    for model, backend in ((a, tf), (b, torch)):
        assert backend.BACKEND._spec(model) == training.check_cnn()
        for (k, bias), (k0, b0) in zip(backend.weights(model), expected):
            np.testing.assert_array_equal(k, k0)
            np.testing.assert_array_equal(bias, b0)
    x = small[1][0]
    np.testing.assert_allclose(tf.predict(a, x), torch.predict(b, x), atol=1e-14)
    # the numpy reference of the initial loss agrees with both frameworks' evaluate
    reference = training.initial_loss(training.check_cnn(), expected, *small[1], LOSS)
    for model, backend in ((a, tf), (b, torch)):
        assert abs(backend.evaluate(model, small[1], loss=LOSS)["loss"] - reference) < 1e-12


@pytest.mark.parametrize("name, lr, kw", [("sgd", 2**-3, {}), ("momentum", 2**-5, {"momentum": 0.875}),
                                          ("adam", 2**-7, EXACT)])
def test_fit_agrees_between_frameworks(backends, small, name, lr, kw):
    out = {}
    for framework, backend in backends.items():
        model = backend.cnn(seed=1)
        out[framework] = backend.fit(model, *small, optimizer=backend.optimizer(name, lr, **kw), loss=LOSS,
                                     epochs=3, batch_size=100, seed=0)
    a, b = (out[f][["loss", "val_loss"]].to_numpy() for f in ("tf", "torch"))
    assert np.abs(a - b).max() <= PARITY_TOL
    assert out["tf"].loss.iloc[-1] < out["tf"].loss.iloc[0]


def test_lr_range_test_accepts_a_cnn_in_both(backends, small):
    results = {}
    for framework, backend in backends.items():
        model = backend.cnn(seed=2)
        before = backend.weights(model)
        results[framework] = backend.lr_range_test(model, small[0], optimizer="sgd", loss=LOSS, start_lr=1e-4,
                                                   end_lr=10.0, num_it=30, batch_size=100)
        np.testing.assert_array_equal(backend.weights(model)[0][0], before[0][0])  # restored
    a, b = results["tf"].history, results["torch"].history
    n = min(len(a), len(b))
    np.testing.assert_allclose(a.loss[:5], b.loss[:5], atol=1e-6)
    assert n >= 5


@pytest.mark.parametrize("framework", ["tf", "torch"])
def test_fit_many_equals_separate_fits(backends, small, framework):
    backend = backends[framework]
    configs = [{"lr": 2**-7, "init_seed": 1}, {"lr": 2**-5, "init_seed": 2}, {"lr": 2**-9, "init_seed": 1}]
    many = backend.fit_many(training.CNNSpec(), *small, optimizer=backend.optimizer("adam", 0.01, **EXACT),
                            loss=LOSS, epochs=3, batch_size=100, configs=configs, seed=0)
    for m, config in enumerate(configs):
        alone = backend.fit(backend.cnn(seed=config["init_seed"]), *small, loss=LOSS, epochs=3, batch_size=100,
                            optimizer=backend.optimizer("adam", config["lr"], **EXACT), seed=0)
        got = many[many.model == m][["loss", "val_loss", "accuracy", "val_accuracy"]].to_numpy()
        assert np.abs(got - alone[["loss", "val_loss", "accuracy", "val_accuracy"]].to_numpy()).max() <= MANY_TOL


GEOMETRIES = [  # (channels, widths, stride, padding, activation): the col2im of fit_many groups taps by stride
    ((6, 5, 4), (4, 5, 2), 3, 2, "tanh"),  # a width below the stride: positions no tap reaches
    ((5, 7), (3, 4), 1, 0, "sigmoid"),  # stride 1, no padding: every tap its own group
    ((4, 4, 4), (2, 6, 3), 2, 3, "relu"),  # widths equal to and a multiple of the stride, wide padding
]


@pytest.mark.parametrize("framework", ["tf", "torch"])
@pytest.mark.parametrize("channels, widths, stride, padding, activation", GEOMETRIES)
def test_fit_many_equals_separate_fits_in_other_geometries(backends, small, framework, channels, widths, stride,
                                                           padding, activation):
    backend, shape = backends[framework], {"stride": stride, "padding": padding, "activation": activation}
    spec = training.check_cnn(channels, widths, **shape)
    configs = [{"lr": 2**-6, "init_seed": 3}, {"lr": 2**-4, "init_seed": 4}]
    many = backend.fit_many(spec, *small, optimizer=backend.optimizer("momentum", 0.1), loss=LOSS, epochs=2,
                            batch_size=64, configs=configs, seed=1)
    for m, config in enumerate(configs):
        alone = backend.fit(backend.cnn(channels, widths, seed=config["init_seed"], **shape), *small, loss=LOSS,
                            epochs=2, batch_size=64, optimizer=backend.optimizer("momentum", config["lr"]), seed=1)
        columns = ["loss", "val_loss", "accuracy", "val_accuracy"]
        assert np.abs(many[many.model == m][columns].to_numpy() - alone[columns].to_numpy()).max() <= MANY_TOL


def test_fit_many_diverged_cnn_is_a_result(backends, small):
    for backend in backends.values():
        history = backend.fit_many(backend.cnn(), *small, optimizer="sgd", loss=LOSS, epochs=2, batch_size=100,
                                   configs=[{"lr": 0.05}, {"lr": 1e4}])
        assert history[history.model == 1].status.tolist() == ["diverged"]
        assert (history[history.model == 0].status == "ok").all()


def test_checkpoint_round_trip(backends, small, tmp_path):
    for framework, backend in backends.items():
        model = backend.cnn(seed=4)
        path = str(tmp_path / f"best-{framework}")
        backend.fit(model, *small, optimizer=backend.optimizer("sgd", 0.05), loss=LOSS, epochs=1, batch_size=100,
                    callbacks=[backend.ModelCheckpoint(path)])
        saved = [p for p in tmp_path.iterdir() if p.name.startswith(f"best-{framework}")][0]
        loaded = backend.load_model(str(saved))
        np.testing.assert_allclose(backend.predict(loaded, small[1][0]), backend.predict(model, small[1][0]))
