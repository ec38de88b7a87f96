"""lrlab.data.mnist1d: MNIST-1D made locally by the mnist1d generator, never downloaded (issue 17, item 1)."""

from __future__ import annotations

import random
import socket
import urllib.request

import numpy as np
import pytest

from lrlab import data
from lrlab.params import ParameterError


def test_made_without_any_network_access(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("lrlab.data.mnist1d tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    import requests

    monkeypatch.setattr(requests.Session, "request", refuse)
    monkeypatch.setattr(data, "_MNIST1D_CACHE", {})  # really generate, not reuse
    split = data.mnist1d()
    assert split.train[0].shape == (3200, 40) and split.val[0].shape == (800, 40)
    assert split.test[0].shape == (1000, 40) and split.test[1].shape == (1000, 10)


def test_the_published_split_standardised_and_stratified():
    split = data.mnist1d()
    x, y = split.train
    assert x.dtype == np.float64 and y.dtype == np.float32
    assert abs(x.mean()) < 1e-12 and abs(x.std() - 1) < 1e-12
    assert np.bincount(split.labels(split.val), minlength=10).min() >= 75  # stratified: 80 of each class ±
    everything = data.mnist1d(val_fraction=0)
    assert everything.val is None and everything.train[0].shape == (4000, 40)
    assert everything.templates.shape == (10, 12)
    # the same test rows whatever the validation cut, and deterministic
    np.testing.assert_array_equal(split.test[1], everything.test[1])
    np.testing.assert_array_equal(data.mnist1d(seed=1).test[1], split.test[1])
    assert not np.array_equal(data.mnist1d(seed=1).train[0], x)


def test_global_random_states_are_left_alone(monkeypatch):
    monkeypatch.setattr(data, "_MNIST1D_CACHE", {})
    np.random.seed(7)
    random.seed(7)
    expected = np.random.random(), random.random()
    np.random.seed(7)
    random.seed(7)
    data.mnist1d(num_samples=200)
    assert (np.random.random(), random.random()) == expected


@pytest.mark.parametrize("kw", [{"val_fraction": 1.0}, {"val_fraction": -0.1}, {"seed": -1}, {"num_samples": 3}])
def test_bad_arguments_name_themselves(kw):
    with pytest.raises(ParameterError, match=next(iter(kw))):
        data.mnist1d(**kw)
