"""Tests of lrlab.seed001's chapter-3 helpers that need no framework: the early-stopping rule and its effects."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd

from lrlab import seed001


def test_doctests():
    assert doctest.testmod(seed001).failed == 0


def test_early_stop_is_keras_rule():
    """Stops after `patience` epochs without a strictly lower loss; ties do not improve; restores the best epoch."""
    assert seed001.early_stop([1.0, 0.9, 0.9, 0.9], patience=2) == (3, 1)
    assert seed001.early_stop([1.0, 0.9, 0.95, 0.8, 0.85, 0.86], patience=2) == (5, 3)
    assert seed001.early_stop([1.0, 1.1], patience=0) == (1, 0)
    assert seed001.early_stop([1.0, 0.9, 0.8], patience=5) == (None, 2)


def test_stopping_effects_reads_test_metrics_at_the_restored_epoch():
    rows = []
    for model, (val, acc) in enumerate([([0.5, 0.3, 0.4, 0.6], [0.8, 0.9, 0.85, 0.7]),
                                        ([0.5, 0.4, 0.3, 0.2], [0.8, 0.85, 0.9, 0.95])]):
        for epoch in range(4):
            rows.append({"framework": "tf", "lr0": 0.01, "model": model, "init_seed": 7 + model, "epoch": epoch,
                         "val_loss": val[epoch], "test_accuracy": acc[epoch], "test_loss": val[epoch] + 0.1})
    effects = seed001.stopping_effects(pd.DataFrame(rows), patience=2)
    assert effects.stopped.tolist() == [3, -1] and effects["best epoch"].tolist() == [1, 3]
    np.testing.assert_allclose(effects.gain, [0.2, 0.0])
    np.testing.assert_allclose(effects["loss gain"], [0.3, 0.0])
    assert effects.init_seed.tolist() == [7, 8]


def test_related_task_labels_by_the_tilted_sum():
    tilt = np.full(20, 1.0)
    x, y = seed001.related_task(tilt, 50, np.random.default_rng(0))
    assert x.shape == (50, 20) and y.shape == (50, 1)
    np.testing.assert_array_equal(y[:, 0], (x.sum(1) > 10).astype(float))
