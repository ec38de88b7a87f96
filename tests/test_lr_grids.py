"""The helpers of chapters 4 and 5: digits_mlp, lr_grids, range_test_checks, and lr_evidence's verdicts."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

from lrlab import digits_mlp, lr_evidence, lr_grids, range_test_checks


@pytest.mark.parametrize("module", [digits_mlp, lr_grids, range_test_checks], ids=lambda m: m.__name__)
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_setup_gives_the_chapters_data_and_network_without_a_framework():
    lab = digits_mlp.setup("torch", seed=0, hidden=32)
    assert lab.layers == (64, 32, 10) and set(lab.backends) == {"torch"}
    assert lab.describe() == "digits: 1077 train, 360 val, 360 test rows; MLP (64, 32, 10)"
    assert lab.scope() == "digits (1077 train / 360 val rows), MLP (64, 32, 10)"
    assert (lab.full_batches, lab.updates_per_epoch) == (33, 34)
    x, y = lab.pooled()
    assert len(x) == len(y) == 1437
    assert lab.elapsed() >= 0


def test_failures_plateau_and_cliff():
    final = pd.DataFrame({"lr": [0.01, 0.1, 1.0, 2.0, 4.0], "val_loss": [2.4, 0.2, 0.24, 2.31, math.nan],
                          "status": ["ok", "ok", "ok", "ok", "diverged"]})
    assert lr_grids.failed(final).tolist() == [True, False, False, True, True]
    assert lr_grids.first_failure(final) == 2.0  # the slow run below the best rate does not count
    assert lr_grids.near_best(final).tolist() == [0.1, 1.0]
    assert lr_grids.best_lr(final) == 0.1


def test_decay_table_has_a_row_per_steps_and_rate():
    trials = pd.DataFrame([{"initial_lr": lr, "decay_rate": r, "decay_steps": s, "value": lr * r + s}
                           for lr in (0.3, 1.0) for r in (0.1, 0.5) for s in (34, 340)])
    table = lr_grids.decay_table(trials, 34)
    assert table.shape == (4, 2)
    assert list(table.index) == ["34 (1 ep.), × 0.1", "34 (1 ep.), × 0.5", "340 (10 ep.), × 0.1",
                                 "340 (10 ep.), × 0.5"]
    assert table.loc["340 (10 ep.), × 0.5", 1.0] == 340.5


def test_excess_summary_and_the_bound_verdict():
    runs = pd.DataFrame({"ramp": ["exp"] * 5 + ["linear"] * 5,
                         "excess": [0.0, 0.02, -0.01, 0.01, 0.03, 2.0, 1.5, 3.0, 0.1, 2.5]})
    summary = lr_evidence.excess_summary(runs, "ramp")
    assert summary.excess.tolist() == ["+0.01 (0.01)", "> +1"]
    v = lr_evidence.bound_verdict("C001-2b", "tf", summary, 0.25, condition="ramp", label="excess", rule="r",
                                  scope="s", seeds=5)
    assert (v.word, v.condition, v.effect) == ("holds only when", "exp", 0.01)
    assert v.evidence == "excess: exp: +0.01 (0.01); linear: > +1"


def test_difference_verdict_reads_the_paired_draws():
    duel = lr_evidence.paired_difference([0.13, 0.14, 0.12], [0.15, 0.16, 0.14], [1, 2, 3])
    assert np.allclose(duel.difference, 0.02)
    v = lr_evidence.difference_verdict("C001-2a", "torch", duel, 0.01, chosen="picked", rule="r", scope="s")
    assert (v.word, v.effect, v.seeds) == ("holds", 0.02, 3)
    assert v.evidence.startswith("picked; on 3 fresh draws the schedule ends at 0.130, the constant rate at 0.150")
