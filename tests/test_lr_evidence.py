"""lrlab.lr_evidence: "at most" rules, conditions, verdict tables and LR curves of native schedule objects."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from lrlab import lr_evidence, verdicts


def test_doctests():
    assert doctest.testmod(lr_evidence).failed == 0


@pytest.mark.parametrize("effect, noise, bound, word", [
    (0.1, None, 0.25, "holds"), (0.4, None, 0.25, "does not hold"), (0.3, 0.05, 0.25, "inconclusive"),
    (-0.1, 0.01, 0.25, "holds"), (1.5, 0.2, 0.25, "does not hold")])
def test_at_most_decides_on_the_margin_to_the_bound(effect, noise, bound, word):
    assert lr_evidence.at_most(effect, noise, bound)[0] == word


def test_at_most_robustness_moves_the_bound_by_half():
    assert lr_evidence.at_most(0.2, None, 0.25) == ("holds", False)  # 0.2 > 0.125
    assert lr_evidence.at_most(0.05, None, 0.25) == ("holds", True)


def test_conditions_names_the_conditions_that_hold_and_checks_robustness():
    assert lr_evidence.conditions({"a": 3, "b": 0}, threshold=2) == ("holds only when", "a", True)
    assert lr_evidence.conditions({"a": 3, "b": 3}, threshold=2) == ("holds", "", True)
    assert lr_evidence.conditions({"a": 2.5}, threshold=2)[2] is False  # 2.5 < 3


def test_returns_to_top_counts_comebacks_not_the_start():
    assert lr_evidence.returns_to_top([0.1, 0.1, 0.05, 0.01, 0.01]) == 0
    assert lr_evidence.returns_to_top(np.tile([0.1, 0.05, 0.02], 4)) == 3


def test_verdict_table_prints_one_row_per_verdict():
    v = verdicts.Verdict(part="C000-1c", framework="tf", word="holds", rule="r", evidence="e", effect=11.05,
                         threshold=2, robust=True)
    row = lr_evidence.verdict_table([v], digits=2).iloc[0]
    got = (row.effect, row.noise, row.threshold, row.verdict, row["survives ±50 %"])
    assert got == ("11", "-", "2", "holds", "yes")


def test_native_lr_curves_of_both_frameworks():
    pytest.importorskip("torch")
    lrs = lr_evidence.torch_lrs(lambda o: __import__("torch").optim.lr_scheduler.StepLR(o, 2, 0.5), 5, 0.1)
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.025])
