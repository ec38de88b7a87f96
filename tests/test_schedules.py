"""lrlab.schedules: the numpy reference against the LRs real Keras and torch optimizers use.

Every schedule is driven, for hypothesis-drawn parameters, through a real Keras
``SGD`` (``optimizer.apply``) and a real torch ``SGD`` (``optimizer.step();
scheduler.step()``) on a dummy weight (:mod:`lrlab.schedule_twins`). Before
each update the weight is reset to 0 and its gradient is −1, so after the
update the weight *is* the LR that update used, in the weight's float32. Seed rows: E000-2, E000-3, E001-1/2,
E002-2/3/4, E004-3, E004-4, C001-1.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrlab import ParameterError, schedules
from lrlab.determinism import configure_tensorflow, configure_torch
from lrlab.lr_evidence import torch_lrs
from lrlab.schedule_twins import keras_lrs_used, torch_lrs_used

tf = configure_tensorflow()
torch = configure_torch()
import keras  # noqa: E402  (after configure_tensorflow set the environment)

#: Keras computes in float32 (TF's float32 pow/cos): allowed gap, relative to the schedule's peak LR
KERAS_TOL = 2e-6
#: torch computes in float64 (chained products, LambdaLR ratios): allowed gap, relative to the peak LR
TORCH_TOL = 1e-12
#: schedule × parameter cases driven through both frameworks, and the largest gaps seen (printed at the end)
DRIVEN: dict[str, int] = {}
GAPS = {"keras": 0.0, "keras_rel": 0.0, "torch": 0.0}
EXAMPLES = 20
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def keras_tolerance(schedule) -> float:
    """Return the gap allowed to Keras, relative to the peak LR: :data:`KERAS_TOL`, plus float32's ill-conditioning.

    Keras's ``CosineDecayRestarts`` finds the cycle from the geometric sum
    ``(1 − t^i)/(1 − t)`` in float32: ``1 − t`` carries an absolute rounding of
    float32's ε, a relative error of ``ε/(t − 1)``, which the cycle's fraction
    (at most ``1/(t − 1)`` cycles' worth) turns into ``ε/(t − 1)²`` and the cosine
    into at most ``(π/2)·ε/(t − 1)²`` of the LR. Negligible for ``t_mul = 2``
    (1.9e-7), dominant as ``t_mul → 1`` (``t_mul = 1.03125``: 1.9e-4; Keras
    branches to the plain formula at exactly 1). A warmup before it inherits its tolerance.
    """
    inner = getattr(schedule, "after", schedule)  # a warmup's schedule after the warmup
    t_mul = inner.params().get("t_mul", 1.0) if inner.name == "cosine_restarts" else 1.0
    if t_mul == 1.0:
        return KERAS_TOL
    return KERAS_TOL + np.pi / 2 * float(np.finfo(np.float32).eps) / (t_mul - 1.0) ** 2


def drive(schedule, n: int, **torch_options):
    """Drive ``schedule`` through both frameworks for ``n`` updates and compare with the reference."""
    reference = schedule(np.arange(n))
    peak = float(np.max(np.abs(reference)))
    used_keras = keras_lrs_used(schedule, n)
    used_torch = torch_lrs_used(schedule, n, **torch_options)
    gap_keras = float(np.max(np.abs(used_keras - reference)))
    gap_torch = float(np.max(np.abs(used_torch - reference)))
    DRIVEN[schedule.name] = DRIVEN.get(schedule.name, 0) + 1
    GAPS.update(keras=max(GAPS["keras"], gap_keras), keras_rel=max(GAPS["keras_rel"], gap_keras / peak),
                torch=max(GAPS["torch"], gap_torch))
    assert gap_keras <= keras_tolerance(schedule) * peak, (schedule, np.argmax(np.abs(used_keras - reference)),
                                                            gap_keras)
    assert gap_torch <= TORCH_TOL * peak, (schedule, np.argmax(np.abs(used_torch - reference)), gap_torch)
    return used_keras, used_torch


# --- parameter strategies -----------------------------------------------------------------
lrs = st.floats(-4, 0).map(lambda e: float(10.0 ** e))
rates = st.floats(0.05, 1.0)
steps = st.integers(1, 25)
N = 70  # updates driven per case (one_cycle: exactly total_steps)

PARAMS = {
    "constant": st.fixed_dictionaries({"lr": lrs}),
    "exponential": st.fixed_dictionaries({"initial_lr": lrs, "decay_steps": steps,
                                          "decay_rate": st.floats(0.3, 1.1), "staircase": st.booleans()}),
    "step": st.fixed_dictionaries({"initial_lr": lrs, "step_size": steps, "gamma": rates}),
    "multistep": st.fixed_dictionaries({
        "initial_lr": lrs, "gamma": rates,
        "milestones": st.lists(st.integers(1, N), min_size=1, max_size=5, unique=True).map(sorted)}),
    "inverse_time": st.fixed_dictionaries({"initial_lr": lrs, "decay_steps": steps,
                                           "decay_rate": st.floats(0.0, 3.0), "staircase": st.booleans()}),
    "polynomial": st.fixed_dictionaries({"initial_lr": lrs, "decay_steps": st.integers(1, 90),
                                         "end_lr": st.sampled_from([0.0, 1e-5, 1e-3]),
                                         "power": st.floats(0.3, 3.0)}),
    "cosine": st.fixed_dictionaries({"initial_lr": lrs, "decay_steps": st.integers(1, 90),
                                     "alpha": st.one_of(st.just(0.0), st.floats(0.0, 1.0))}),
    "cosine_restarts": st.fixed_dictionaries({
        "initial_lr": lrs, "first_decay_steps": st.integers(1, 20),
        "t_mul": st.one_of(st.sampled_from([1.0, 2.0, 3.0]), st.floats(1.0, 3.0)),
        "m_mul": st.one_of(st.just(1.0), st.floats(0.3, 1.0)), "alpha": st.floats(0.0, 0.5)}),
    "cyclic": st.fixed_dictionaries({
        "base_lr": lrs, "max_lr": st.floats(1.5, 100.0), "step_size_up": steps,
        "mode": st.sampled_from(["triangular", "triangular2", "exp_range"]),
        "gamma": st.floats(0.9, 1.0)}).map(lambda p: dict(p, max_lr=p["base_lr"] * p["max_lr"])),
    "one_cycle": st.fixed_dictionaries({
        "max_lr": lrs, "total_steps": st.integers(5, N), "pct_start": st.floats(0.05, 0.9),
        "div_factor": st.floats(1.0, 50.0), "final_div_factor": st.floats(1.0, 1e4),
        "anneal_strategy": st.sampled_from(["cos", "linear"])}).filter(
            lambda p: p["pct_start"] * p["total_steps"] > 1.0),
}
AFTER = st.sampled_from(sorted(PARAMS)).flatmap(lambda name: PARAMS[name].map(lambda p: {"name": name, **p}))
PARAMS["warmup"] = st.fixed_dictionaries({"after": AFTER, "warmup_steps": steps,
                                          "start_lr": st.floats(0.01, 1.5)}).map(
    lambda p: dict(p, start_lr=p["start_lr"] * schedules.make(**p["after"]).initial_lr))


def updates(schedule) -> int:
    """Return how many updates to drive: N, or the whole (and only the) span a one-cycle is defined on."""
    if isinstance(schedule, schedules.OneCycle):
        return schedule.total_steps
    if isinstance(schedule, schedules.Warmup) and isinstance(schedule.after, schedules.OneCycle):
        return schedule.warmup_steps + schedule.after.total_steps
    return N


def test_registry_has_every_name_of_the_design():
    assert schedules.names() == sorted(["constant", "step", "multistep", "exponential", "inverse_time",
                                        "polynomial", "cosine", "cosine_restarts", "warmup", "cyclic",
                                        "one_cycle"])
    assert set(PARAMS) == set(schedules.names())


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_frameworks_use_the_reference_lr_for_every_update(name):
    @SETTINGS
    @given(PARAMS[name])
    def check(params):
        schedule = schedules.make(name, **params)
        drive(schedule, updates(schedule))

    check()


def test_reference_accepts_ints_and_arrays_and_rejects_negative_steps():
    s = schedules.make("step", initial_lr=1.0, step_size=2, gamma=0.5)
    assert s(3) == 0.5 and isinstance(s(3), np.float64)
    np.testing.assert_array_equal(s(np.array([[0, 1], [2, 4]])), [[1.0, 1.0], [0.5, 0.25]])
    assert s(np.float64(4.0)) == 0.25
    for bad in (-1, 1.5, np.array([0, -3]), "3", True):
        with pytest.raises(ParameterError, match="k = "):
            s(bad)


def test_make_round_trips_its_parameters():
    s = schedules.make("warmup", after={"name": "cosine", "initial_lr": 0.1, "decay_steps": 10},
                       warmup_steps=3, start_lr=0.01)
    again = schedules.make(s.name, **s.params())
    np.testing.assert_array_equal(s(np.arange(20)), again(np.arange(20)))
    assert repr(s).startswith("make('warmup', after={'name': 'cosine'")


def test_import_does_not_import_a_framework():
    code = ("import sys, lrlab.schedules, lrlab.schedule_twins, lrlab.plateau; "
            "print('tensorflow' in sys.modules or 'torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_sampled_updates_are_the_updates_of_a_full_run():
    from lrlab.schedule_twins import lrs_used

    s = schedules.make("exponential", initial_lr=0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    full = lrs_used(s, 31)
    sampled = lrs_used(s, np.array([30, 9, 10, 21]))
    assert sampled.k.tolist() == [0, 9, 10, 21, 30]  # sorted, update 0 always included
    for column in ("reference", "tf", "torch"):
        np.testing.assert_array_equal(sampled[column], full[column].to_numpy()[[0, 9, 10, 21, 30]])


def test_keras_learning_rate_scheduler_and_torch_multiplicative_lr_follow_a_user_function():
    """E002-5: a per-epoch user function through Keras's LearningRateScheduler and torch's MultiplicativeLR."""
    from lrlab.schedule_twins import keras_scheduler_lrs, torch_multiplicative_lrs

    def halve_every_4(epoch, lr):
        return lr * 0.5 if epoch > 0 and epoch % 4 == 0 else lr

    expected = schedules.make("step", initial_lr=0.2, step_size=4, gamma=0.5)(np.arange(13))
    np.testing.assert_allclose(keras_scheduler_lrs(halve_every_4, 13, 0.2), expected, rtol=1e-6)
    np.testing.assert_allclose(torch_multiplicative_lrs(lambda e: 0.5 if e % 4 == 0 else 1.0, 13, 0.2), expected,
                               rtol=1e-15)


# --- the traps, each shown on the native objects and then on lrlab's twins ------------------


def test_boundary_keras_piecewise_keeps_old_value_torch_multistep_switches():
    keras_native = keras.optimizers.schedules.PiecewiseConstantDecay([5], [1.0, 0.1])
    assert float(keras_native(5)) == 1.0 and float(keras_native(6)) == np.float32(0.1)
    s = schedules.make("multistep", initial_lr=1.0, milestones=[5], gamma=0.1)
    used = torch_lrs(lambda optimizer: torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[5], gamma=0.1), 7,
                     1.0)
    assert used[4] == 1.0 and used[5] == pytest.approx(0.1)  # torch: update 5 uses the new LR
    assert s(4) == 1.0 and s(5) == pytest.approx(0.1)  # lrlab follows torch ...
    used_keras, used_torch = drive(s, 8)  # ... and its Keras twin puts the boundary at 4
    assert used_keras[5] == np.float32(0.1) and used_torch[5] == pytest.approx(0.1)


def test_torch_cosine_rises_after_t_max_keras_holds_and_lrlab_holds_in_both():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    native = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    lrs = []
    for _ in range(21):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        native.step()
    assert lrs[10] == pytest.approx(0.0, abs=1e-12) and lrs[15] == pytest.approx(0.5) and lrs[20] == pytest.approx(1.0)
    assert float(keras.optimizers.schedules.CosineDecay(1.0, 10)(20)) == 0.0
    used_keras, used_torch = drive(schedules.make("cosine", initial_lr=1.0, decay_steps=10, alpha=0.0), 25)
    assert np.all(used_keras[10:] == 0.0) and np.all(used_torch[10:] == 0.0)


def test_keras_alpha_is_a_fraction_of_the_initial_lr():
    assert float(keras.optimizers.schedules.CosineDecay(0.5, 10, alpha=0.1)(10)) == pytest.approx(0.05)
    used_keras, used_torch = drive(schedules.make("cosine", initial_lr=0.5, decay_steps=10, alpha=0.1), 15)
    assert used_keras[-1] == pytest.approx(0.05) and used_torch[-1] == pytest.approx(0.05)


def test_keras_polynomial_decay_ends_at_1e_4_by_default_lrlab_at_end_lr():
    assert float(keras.optimizers.schedules.PolynomialDecay(0.1, 10)(10)) == pytest.approx(1e-4)
    used_keras, used_torch = drive(schedules.make("polynomial", initial_lr=0.1, decay_steps=10), 12)
    assert used_keras[-1] == 0.0 and used_torch[-1] == 0.0


def _momenta(optimizer, scheduler, n):
    out = []
    for _ in range(n):
        out.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    return out


def test_torch_cyclic_lr_cycles_momentum_by_default_lrlab_does_not_unless_asked():
    def sgd():
        return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.0)

    optimizer = sgd()
    native = torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=2)
    assert _momenta(optimizer, native, 3) == pytest.approx([0.9, 0.85, 0.8])  # momentum 0 became 0.9, cycling
    s = schedules.make("cyclic", base_lr=0.01, max_lr=0.1, step_size_up=2)
    optimizer = sgd()
    assert _momenta(optimizer, s.to_torch(optimizer), 5) == [0.0] * 5
    optimizer = sgd()
    assert _momenta(optimizer, s.to_torch(optimizer, cycle_momentum=True), 3) == pytest.approx([0.9, 0.85, 0.8])
    drive(s, 12)


def test_one_cycle_pct_start_times_total_steps_of_one_is_refused():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ZeroDivisionError):
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10, pct_start=0.1)
    with pytest.raises(ParameterError, match=r"pct_start = 0\.1 is not allowed with total_steps = 10"):
        schedules.make("one_cycle", max_lr=0.1, total_steps=10, pct_start=0.1)
    s = schedules.make("one_cycle", max_lr=0.1, total_steps=10, pct_start=0.2)
    drive(s, 10)
    assert s(10) == s(9) == s(100)  # the reference holds the end LR ...
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = s.to_torch(optimizer)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    optimizer.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):  # ... torch's is defined for 10 updates only
        scheduler.step()


def test_warmup_from_zero_wastes_the_first_update_so_lrlab_refuses_it():
    native_keras = keras.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5)
    assert float(native_keras(0)) == 0.0
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    torch.optim.lr_scheduler.LambdaLR(optimizer, lambda n: min(1.0, n / 5))
    assert optimizer.param_groups[0]["lr"] == 0.0
    with pytest.raises(ValueError):  # torch's LinearLR refuses to start at 0 too
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.0)
    after = {"name": "cosine", "initial_lr": 0.1, "decay_steps": 10}
    with pytest.raises(ParameterError, match=r"start_lr = 0\.0 is not allowed"):
        schedules.make("warmup", after=after, warmup_steps=5, start_lr=0.0)
    s = schedules.make("warmup", after=after, warmup_steps=5, start_lr=0.02)
    assert type(s.to_keras()).__name__ == "CosineDecay"  # Keras's own warmup
    used_keras, _ = drive(s, 20)
    assert used_keras[0] == np.float32(0.02) and used_keras[5] == np.float32(0.1)


def test_exponential_staircase_is_a_step_function():
    """E000-2: staircase holds the LR for decay_steps updates, then multiplies it by decay_rate."""
    stair = schedules.make("exponential", initial_lr=0.01, decay_steps=10000, decay_rate=0.96, staircase=True)
    smooth = schedules.make("exponential", initial_lr=0.01, decay_steps=10000, decay_rate=0.96)
    k = np.array([0, 5000, 9999, 10000, 15000, 20000])
    np.testing.assert_allclose(stair(k), [0.01, 0.01, 0.01, 0.0096, 0.0096, 0.009216])
    np.testing.assert_allclose(smooth(k)[[0, 3, 5]], stair(k)[[0, 3, 5]])
    assert smooth(5000) == pytest.approx(0.01 * 0.96 ** 0.5)


# --- bad parameters ---------------------------------------------------------------------------
AFTER_OK = {"name": "constant", "lr": 0.1}
BAD = [
    ("constant", {"lr": 0.0}, "lr", 0.0),
    ("exponential", {"initial_lr": -0.1, "decay_steps": 1, "decay_rate": 0.9}, "initial_lr", -0.1),
    ("exponential", {"initial_lr": 0.1, "decay_steps": 0, "decay_rate": 0.9}, "decay_steps", 0),
    ("exponential", {"initial_lr": 0.1, "decay_steps": 1, "decay_rate": 0.9, "staircase": 1}, "staircase", 1),
    ("step", {"initial_lr": 0.1, "step_size": 2.5, "gamma": 0.5}, "step_size", 2.5),
    ("step", {"initial_lr": 0.1, "step_size": 2, "gamma": float("nan")}, "gamma", float("nan")),
    ("multistep", {"initial_lr": 0.1, "milestones": [5, 3], "gamma": 0.5}, "milestones", [5, 3]),
    ("multistep", {"initial_lr": 0.1, "milestones": [0, 3], "gamma": 0.5}, "milestones", [0, 3]),
    ("inverse_time", {"initial_lr": 0.1, "decay_steps": 1, "decay_rate": -1.0}, "decay_rate", -1.0),
    ("polynomial", {"initial_lr": 0.1, "decay_steps": 10, "power": 0.0}, "power", 0.0),
    ("polynomial", {"initial_lr": 0.1, "decay_steps": 10, "end_lr": -1e-3}, "end_lr", -1e-3),
    ("cosine", {"initial_lr": 0.1, "decay_steps": 10, "alpha": 1.5}, "alpha", 1.5),
    ("cosine_restarts", {"initial_lr": 0.1, "first_decay_steps": 10, "t_mul": 0.5}, "t_mul", 0.5),
    ("cosine_restarts", {"initial_lr": 0.1, "first_decay_steps": 10, "m_mul": 0.0}, "m_mul", 0.0),
    ("warmup", {"after": "cosine", "warmup_steps": 5, "start_lr": 0.01}, "after", "cosine"),
    ("warmup", {"after": AFTER_OK, "warmup_steps": 0, "start_lr": 0.01}, "warmup_steps", 0),
    ("cyclic", {"base_lr": 0.1, "max_lr": 0.1, "step_size_up": 4}, "max_lr", 0.1),
    ("cyclic", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "mode": "sine"}, "mode", "sine"),
    ("cyclic", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "gamma": 1.5}, "gamma", 1.5),
    ("one_cycle", {"max_lr": 0.1, "total_steps": 1}, "total_steps", 1),
    ("one_cycle", {"max_lr": 0.1, "total_steps": 100, "pct_start": 1.0}, "pct_start", 1.0),
    ("one_cycle", {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "exp"}, "anneal_strategy", "exp"),
    ("one_cycle", {"max_lr": 0.1, "total_steps": 100, "div_factor": 0.5}, "div_factor", 0.5),
]


@pytest.mark.parametrize("name, params, parameter, value", BAD, ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_bad_parameters_raise_value_error_naming_parameter_and_value(name, params, parameter, value):
    with pytest.raises(ValueError) as info:
        schedules.make(name, **params)
    assert isinstance(info.value, ParameterError)
    assert str(info.value).startswith(f"{parameter} = {value!r} is not allowed")


def test_unknown_name_and_missing_parameters():
    with pytest.raises(ParameterError, match="name = 'linear' is not allowed; expected one of"):
        schedules.make("linear", lr=0.1)
    with pytest.raises(TypeError):
        schedules.make("step", initial_lr=0.1)


def test_zz_report_cases_driven_and_largest_gaps():
    """Print (``pytest -s``) how many schedule × parameter cases were driven and the largest gaps measured."""
    if len(DRIVEN) < len(PARAMS):
        pytest.skip("run the whole module to get the report")
    assert all(DRIVEN[name] >= min(EXAMPLES, 2) for name in PARAMS)
    print(f"\ncases driven through Keras and torch: {sum(DRIVEN.values())} {dict(sorted(DRIVEN.items()))}")
    print(f"largest gap to the reference: Keras {GAPS['keras']:.2e} ({GAPS['keras_rel']:.2e} of the peak LR), "
          f"torch {GAPS['torch']:.2e}")
