"""lrlab.heavy_ball: the ravine, the two forms of the momentum update, reversals, pairs at equal effective step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lrlab import heavy_ball, schedules
from lrlab.params import ParameterError


def test_the_ravine_has_the_curvatures_it_promises():
    problem = heavy_ball.ravine(3)
    assert np.allclose(problem.curvatures(), [2.0, 2.0, 50.0])
    gw, gb = problem.gradient(problem.w_star, problem.b_star)
    assert np.allclose(gw, 0) and abs(gb) < 1e-12


def test_the_two_forms_agree_at_a_constant_rate_and_part_under_a_schedule():
    problem = heavy_ball.ravine(0)
    keras, torch = (heavy_ball.by_hand(problem, 0.0038, 0.9, 60, form) for form in ("keras", "torch"))
    assert np.abs(keras - torch).max() < 1e-9
    decayed = schedules.make("step", initial_lr=0.02, step_size=30, gamma=0.1)
    keras, torch = (heavy_ball.by_hand(problem, decayed, 0.9, 60, form) for form in ("keras", "torch"))
    assert np.abs(keras - torch).max() > 1e-3
    with pytest.raises(ParameterError):
        heavy_ball.by_hand(problem, 0.01, 0.9, 3, "adam")


def test_a_backend_follows_the_form_by_hand():
    lt = pytest.importorskip("lrlab.torch")
    problem = heavy_ball.ravine(0)
    path = heavy_ball.framework_path(lt, problem, 0.038, 0.9, 20)
    assert np.abs(path - heavy_ball.by_hand(problem, 0.038, 0.9, 20, "torch")).max() < 1e-9
    assert np.allclose(heavy_ball.framework_final(lt, problem, 0.038, 0.9, 20), path[-1])
    gaps = heavy_ball.form_gaps(problem, {"torch": lt}, [("a", 0.038, 0.0), ("a", 0.038, 0.9)], 20)
    assert gaps.lr.tolist() == ["a", "a"] and (gaps["|torch - torch form|"] < 1e-9).all()


def test_reversals_count_the_zig_zag_of_plain_descent():
    problem = heavy_ball.ravine(0)
    settings = {"plain": (0.038, 0.0), "momentum": (0.0038, 0.9)}
    table, paths = heavy_ball.reversals(problem, {}, settings, 200, floor=1e-6)
    counts = table.set_index("run")["reversals"]
    assert set(paths) == {("by hand", "plain"), ("by hand", "momentum")}
    assert counts["plain"] > counts["momentum"] > 0
    assert table["effective step"].round(9).tolist() == [0.038, 0.038]


def test_pairs_at_equal_effective_step_need_plain_sgd_to_train():
    means = pd.DataFrame({0.0: [0.9, 0.5, 0.2], 0.9: [0.25, 3.0, 3.0]}, index=[0.01, 0.1, 1.0])
    pairs = heavy_ball.equal_step_pairs(means, threshold=0.3)
    assert pairs[["effective step", "plain", "with momentum"]].values.tolist() == [[1.0, 0.2, 3.0]]
    assert heavy_ball.equal_step_pairs(means.drop(columns=0.0), 0.3).empty
    assert heavy_ball.pair_gap(pairs, 0.9) == 2.8
