"""lrlab.many_starts.descend_many: many starts in one vector give each start the path that descend gives it."""

import numpy as np
import pytest

from lrlab import many_starts, schedules
from lrlab.data import Wells
from lrlab.params import ParameterError


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_descend_many_equals_descend_start_by_start(framework):
    backend = pytest.importorskip(f"lrlab.{framework}")
    surface = Wells()
    schedule = schedules.make("cyclic", base_lr=0.001, max_lr=0.7, step_size_up=5, mode="triangular")
    w0s = [-3.0, 0.51, 2.5]
    path = many_starts.descend_many(framework, surface.loss, w0s, schedule, 20)
    assert path.shape == (20, 3) and path.dtype == np.float32
    for i, w0 in enumerate(w0s):
        alone = backend.descend(surface.loss, w0, schedule, 20).w.to_numpy()
        assert np.array_equal(path[:, i], alone)
    constant = many_starts.descend_many(framework, surface.loss, w0s[:1], 0.01, 3)
    assert np.array_equal(constant[:, 0], backend.descend(surface.loss, w0s[0], 0.01, 3).w.to_numpy())


def test_descend_many_rejects_bad_input():
    with pytest.raises(ParameterError, match="framework"):
        many_starts.descend_many("jax", Wells().loss, [0.0], 0.1, 3)
    with pytest.raises(ParameterError, match="w0s"):
        many_starts.descend_many("torch", Wells().loss, [], 0.1, 3)
    with pytest.raises(ParameterError, match="w0s"):
        many_starts.descend_many("torch", Wells().loss, [np.nan], 0.1, 3)
