"""lrlab.plateau: lrlab's reduce-on-plateau rule against Keras's and torch's native callbacks (E000-3, E002-5).

The same metric sequences go to the native Keras ``ReduceLROnPlateau`` callback,
the native torch ``ReduceLROnPlateau`` scheduler and :class:`PlateauRule`; each
documented difference between the natives is shown on a sequence made to
expose it, and hypothesis-drawn sequences check that the argument mappings
make both natives agree with lrlab's rule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrlab import ParameterError
from lrlab.plateau import PlateauRule, keras_kwargs, keras_lrs, rule_lrs, torch_kwargs, torch_lrs

LR = 0.1


def cuts(lrs, lr=LR) -> list[int]:
    """Return the epochs after which the LR went down."""
    before = np.concatenate([[lr], lrs[:-1]])
    return [int(e) for e in np.flatnonzero(lrs < before)]


# --- the documented differences of the native rules --------------------------------------------
FLAT = [1.0] + [1.0] * 9  # one best epoch, then nothing improves


def test_patience_torch_tolerates_p_bad_epochs_keras_cuts_at_the_p_th():
    assert cuts(torch_lrs(FLAT, LR, patience=2)) == [3, 6, 9]
    assert cuts(keras_lrs(FLAT, LR, mode="min", patience=2)) == [2, 4, 6, 8]
    # Keras's patience 0 means the same as 1
    np.testing.assert_array_equal(keras_lrs(FLAT, LR, mode="min", patience=0),
                                  keras_lrs(FLAT, LR, mode="min", patience=1))
    assert cuts(rule_lrs(PlateauRule(patience=2), FLAT, LR)) == [3, 6, 9]  # lrlab counts like torch


def test_cooldown_keras_one_means_none_torch_ignores_c_epochs():
    np.testing.assert_array_equal(keras_lrs(FLAT, LR, mode="min", patience=1, cooldown=1),
                                  keras_lrs(FLAT, LR, mode="min", patience=1, cooldown=0))
    assert cuts(torch_lrs(FLAT, LR, factor=0.5, patience=0, cooldown=0)) == list(range(1, 10))
    assert cuts(torch_lrs(FLAT, LR, factor=0.5, patience=0, cooldown=1)) == [1, 3, 5, 7, 9]
    assert cuts(rule_lrs(PlateauRule(factor=0.5, patience=0, cooldown=1), FLAT, LR)) == [1, 3, 5, 7, 9]


def test_relative_threshold_is_inverted_for_negative_metrics_in_torch():
    metrics = [-10.0, -9.5, -9.0]  # getting worse in min mode
    torch_rel = torch_lrs(metrics, LR, patience=0, threshold=0.1, threshold_mode="rel")
    assert cuts(torch_rel) == []  # torch: -9.5 < -10·(1 - 0.1) = -9, an "improvement"
    assert cuts(rule_lrs(PlateauRule(patience=0, threshold=0.1, threshold_mode="rel"), metrics, LR)) == [1, 2]
    # on positive metrics lrlab's relative rule is torch's
    positive = [10.0, 9.5, 8.9, 8.5]
    np.testing.assert_array_equal(torch_lrs(positive, LR, patience=0, threshold=0.1, threshold_mode="rel"),
                                  rule_lrs(PlateauRule(patience=0, threshold=0.1, threshold_mode="rel"),
                                           positive, LR))


def test_keras_threshold_is_absolute_torch_default_is_relative():
    metrics = [100.0, 99.998, 99.996, 99.994]  # improves by 0.002 each epoch: > 1e-4 absolute, < 1e-4 relative
    assert cuts(keras_lrs(metrics, LR, mode="min", patience=1)) == []
    assert cuts(torch_lrs(metrics, LR, patience=0)) == [1, 2, 3]
    assert cuts(rule_lrs(PlateauRule(patience=0), metrics, LR)) == []  # lrlab: absolute by default


def test_torch_eps_stops_reductions_below_about_1e_8():
    tiny = 5e-9
    assert np.all(torch_lrs(FLAT, tiny, patience=0) == tiny)
    assert torch_lrs(FLAT, tiny, patience=0, eps=0.0)[-1] < tiny
    assert rule_lrs(PlateauRule(patience=0), FLAT, tiny)[-1] < tiny
    assert keras_lrs(FLAT, tiny, mode="min", patience=1)[-1] < tiny


def test_nan_first_epoch_keras_takes_it_as_best_torch_and_lrlab_as_bad():
    metrics = [math.nan, 1.0, 0.9, 0.8, 0.7, 0.6]  # improving after a NaN first epoch
    assert cuts(keras_lrs(metrics, LR, mode="min", patience=2)) == [2, 4]  # nothing can beat NaN
    assert cuts(torch_lrs(metrics, LR, patience=1)) == []
    assert cuts(rule_lrs(PlateauRule(patience=1), metrics, LR)) == []


def test_min_lr_is_a_floor_and_the_lr_never_rises():
    lrs = rule_lrs(PlateauRule(patience=0, factor=0.5, min_lr=0.03), FLAT, LR)
    np.testing.assert_allclose(lrs, [0.1, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03])
    assert rule_lrs(PlateauRule(patience=0, min_lr=0.5), FLAT, LR).tolist() == [LR] * len(FLAT)


def test_max_mode_and_state():
    rule = PlateauRule(mode="max", patience=1, factor=0.5)
    assert rule.step(0.5, 1.0) == 1.0 and rule.best == 0.5 and rule.num_bad_epochs == 0
    assert rule.step(0.5, 1.0) == 1.0 and rule.num_bad_epochs == 1
    assert rule.step(0.4, 1.0) == 0.5 and rule.num_bad_epochs == 0 and rule.cooldown_counter == 0
    rule.reset()
    assert rule.best == -math.inf and rule.num_bad_epochs == 0


# --- the mappings: both natives agree with lrlab's rule ------------------------------------------
def metric_sequences():
    """Noisy, often flat metric sequences: quantised steps so that ties and plateaus happen."""
    return st.lists(st.sampled_from([-2, -1, -1, 0, 0, 0, 1, 2]), min_size=5, max_size=40).map(
        lambda moves: list(5.0 + 0.05 * np.cumsum(moves)))


RULES = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]), "factor": st.sampled_from([0.1, 0.5, 0.7]),
    "patience": st.integers(0, 4), "threshold": st.sampled_from([0.0, 0.04, 0.1, 0.3]),
    "cooldown": st.integers(0, 3), "min_lr": st.sampled_from([0.0, 1e-3, 0.02])})
CASES = {"count": 0}


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(RULES, metric_sequences())
def test_keras_and_torch_natives_with_mapped_arguments_agree_with_the_rule(params, metrics):
    rule = PlateauRule(**params)
    expected = rule_lrs(rule, metrics, LR)
    np.testing.assert_array_equal(torch_lrs(metrics, LR, **torch_kwargs(rule)), expected)
    np.testing.assert_allclose(keras_lrs(metrics, LR, **keras_kwargs(rule)), expected, rtol=1e-6)
    CASES["count"] += 1


def test_relative_rules_have_no_keras_mapping():
    with pytest.raises(ParameterError, match="threshold_mode = 'rel' is not allowed"):
        keras_kwargs(PlateauRule(threshold_mode="rel"))


BAD = [
    ({"mode": "auto"}, "mode", "auto"),
    ({"factor": 1.0}, "factor", 1.0),
    ({"factor": 0.0}, "factor", 0.0),
    ({"patience": -1}, "patience", -1),
    ({"patience": 2.5}, "patience", 2.5),
    ({"threshold": -1e-4}, "threshold", -1e-4),
    ({"threshold_mode": "relative"}, "threshold_mode", "relative"),
    ({"cooldown": -2}, "cooldown", -2),
    ({"min_lr": float("inf")}, "min_lr", float("inf")),
]


@pytest.mark.parametrize("params, parameter, value", BAD, ids=[b[1] for b in BAD])
def test_bad_parameters_raise_value_error_naming_parameter_and_value(params, parameter, value):
    with pytest.raises(ValueError, match=rf"^{parameter} = {value!r} is not allowed".replace("(", r"\(")):
        PlateauRule(**params)


def test_bad_step_arguments():
    rule = PlateauRule()
    with pytest.raises(ParameterError, match="metric = 'low' is not allowed"):
        rule.step("low", 0.1)
    with pytest.raises(ParameterError, match=r"lr = -0\.1 is not allowed"):
        rule.step(1.0, -0.1)
    with pytest.raises(ParameterError, match=r"metrics = \[\] is not allowed"):
        rule_lrs(rule, [], 0.1)
