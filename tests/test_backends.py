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


def test_descend_schedule_reproduces_the_published_table(backend):
    trace = backend.descend(Quadratic().loss, 5.0, _e004_4_schedule(), 40)
    assert trace.lr_used.iloc[0] == np.float32(0.1)
    np.testing.assert_allclose(trace.lr_used.iloc[1:], trace.lr_next.iloc[:-1], rtol=1e-6)
    comparison = golden.compare_with_published(trace)
    assert comparison.units_off.max() <= 1.0
    assert golden.final_w_text(trace) == E004_4_FINAL_W


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
