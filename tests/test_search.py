"""Tests of lrlab.search: grid, random and TPE search on Optuna's samplers (E003-1, C003-3, C001-2)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import lrlab
from lrlab import search

SPACE = {"lr": search.log_uniform(1e-4, 1.0), "batch_size": [16, 32, 64, 128],
         "weight_decay": search.log_uniform(1e-6, 1e-2), "momentum": search.uniform(0.0, 0.99)}


def bowl(params):
    """A cheap objective with its minimum at lr = 0.01 that hardly depends on the other hyperparameters."""
    return (math.log10(params["lr"]) + 2) ** 2 + 1e-3 * params["batch_size"] / 128 + 1e-3 * params["momentum"]


class Counter:
    """An objective that remembers every parameter dict it was called with."""

    def __init__(self, f=bowl):
        self.f, self.calls = f, []

    def __call__(self, params):
        self.calls.append(dict(params))
        return self.f(params)


# ----------------------------------------------------------------------------------------
# the space
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("ranges, message", [
    ({"lr": search.uniform(1.0, 0.1)}, r"lr: low = 1.0, high = 0.1 is not allowed; expected low < high"),
    ({"lr": search.log_uniform(0.0, 1.0)}, r"lr: low = 0.0 is not allowed on a log scale"),
    ({"momentum": search.uniform(0.5, 0.5)}, r"momentum: low = 0.5, high = 0.5"),
    ({"depth": search.integer(1.5, 4)}, r"depth: low = 1.5 is not allowed; expected a whole number"),
    ({"lr": search.uniform(0.0, math.inf)}, r"lr: high = inf is not allowed"),
    ({"batch_size": []}, r"batch_size: values = \[\] are not allowed"),
    ({"batch_size": [32, 32]}, r"batch_size: values = \[32, 32\] are not allowed"),
    ({"lr": "0.1"}, r"lr = '0.1' is not allowed"),
])
def test_bad_ranges_raise_a_value_error_naming_the_parameter(ranges, message):
    with pytest.raises(ValueError, match=message):
        search.space(ranges)
    with pytest.raises(lrlab.ParameterError, match=message):
        search.run(bowl, ranges, strategy="random", n_trials=2, storage=None)


@pytest.mark.parametrize("kwargs, name", [
    ({"strategy": "bayes", "n_trials": 3}, "strategy"),
    ({"strategy": "random"}, "n_trials"),
    ({"strategy": "random", "n_trials": 0}, "n_trials"),
    ({"strategy": "tpe", "n_trials": 3, "direction": "down"}, "direction"),
    ({"strategy": "random", "n_trials": 3, "storage": "runs/x.db"}, "storage"),
    ({"strategy": "random", "n_trials": 3, "grid": 2}, "grid"),
    ({"strategy": "grid", "grid": {"lr": [0.1]}}, "grid names"),
    ({"strategy": "grid", "n_trials": 100}, "n_trials"),
])
def test_bad_search_arguments_raise_naming_the_parameter(kwargs, name):
    with pytest.raises(lrlab.ParameterError, match=name):
        search.run(bowl, SPACE, storage=kwargs.pop("storage", None), **kwargs)


# ----------------------------------------------------------------------------------------
# grids
# ----------------------------------------------------------------------------------------
def test_grid_counts_fill_the_budget_in_the_spaces_order():
    assert search.grid_counts(SPACE, 8) == {"lr": 2, "batch_size": 2, "weight_decay": 2, "momentum": 1}
    assert search.grid_counts(SPACE, 24) == {"lr": 3, "batch_size": 2, "weight_decay": 2, "momentum": 2}
    assert search.grid_counts(SPACE, 1) == {"lr": 1, "batch_size": 1, "weight_decay": 1, "momentum": 1}
    # a choice never gets more values than it has
    assert search.grid_counts({"a": [1, 2], "b": search.uniform(0, 1)}, 12) == {"a": 2, "b": 6}


def test_grid_values_are_cell_midpoints():
    values = search.grid_values(SPACE, {"lr": 2, "batch_size": 2, "weight_decay": 1, "momentum": 3})
    np.testing.assert_allclose(values["lr"], [1e-3, 1e-1])
    assert values["batch_size"] == [32, 128]
    np.testing.assert_allclose(values["weight_decay"], [1e-4])
    np.testing.assert_allclose(values["momentum"], [0.165, 0.495, 0.825])
    assert search.grid_values({"n": search.integer(1, 10)}, 2) == {"n": [3, 8]}
    with pytest.raises(lrlab.ParameterError, match="batch_size"):
        search.grid_values(SPACE, {"lr": 1, "batch_size": 5, "weight_decay": 1, "momentum": 1})


def test_grid_search_evaluates_every_point_once():
    objective = Counter()
    result = search.run(objective, SPACE, strategy="grid", n_trials=24, storage=None, seed=3)
    values = search.grid_values(SPACE, search.grid_counts(SPACE, 24))
    expected = {tuple(p) for p in itertools.product(*values.values())}
    seen = [tuple(call[n] for n in values) for call in objective.calls]
    assert len(seen) == 24 and set(seen) == expected
    assert result.n_trials == 24 and (result.trials.state == "COMPLETE").all()
    assert result.best_params["lr"] == pytest.approx(1e-2)


def test_explicit_grid_of_choices_is_the_full_product():
    objective = Counter(lambda p: p["rate"] * p["steps"])
    result = search.run(objective, {"rate": [0.5, 0.9, 0.99], "steps": [10, 100]}, strategy="grid", storage=None)
    assert sorted((c["rate"], c["steps"]) for c in objective.calls) == sorted(
        itertools.product([0.5, 0.9, 0.99], [10, 100]))
    assert result.best_params == {"rate": 0.5, "steps": 10} and result.best_value == 5.0


# ----------------------------------------------------------------------------------------
# random and TPE
# ----------------------------------------------------------------------------------------
def test_random_search_is_seeded_and_stays_inside_the_space():
    a = search.run(bowl, SPACE, strategy="random", n_trials=12, seed=7, storage=None)
    b = search.run(bowl, SPACE, strategy="random", n_trials=12, seed=7, storage=None)
    c = search.run(bowl, SPACE, strategy="random", n_trials=12, seed=8, storage=None)
    assert a.trials.equals(b.trials) and not a.trials.equals(c.trials)
    assert a.trials.lr.between(1e-4, 1.0).all() and a.trials.batch_size.isin([16, 32, 64, 128]).all()
    np.testing.assert_array_equal(a.trials.best_so_far, np.minimum.accumulate(a.trials.value))


def test_tpe_concentrates_on_the_good_region_after_its_random_start():
    tpe = search.run(bowl, SPACE, strategy="tpe", n_trials=40, seed=0, n_startup_trials=10, storage=None)
    rnd = search.run(bowl, SPACE, strategy="random", n_trials=40, seed=0, storage=None)
    # TPE's random start draws what the random sampler with the same seed draws
    assert tpe.trials.lr.iloc[:10].tolist() == rnd.trials.lr.iloc[:10].tolist()
    distance = lambda r: np.median(np.abs(np.log10(r.trials.lr.iloc[10:]) + 2))  # noqa: E731
    assert distance(tpe) < distance(rnd) / 2


def test_batched_search_asks_up_to_batch_trials_at_once():
    sizes = []

    def many(params):
        sizes.append(len(params))
        return [bowl(p) for p in params]

    result = search.run_batched(many, SPACE, strategy="tpe", n_trials=10, batch=4, n_startup_trials=4,
                                storage=None)
    assert sizes == [4, 4, 2] and result.n_trials == 10


def test_failed_and_diverged_trials():
    def objective(params):
        return math.nan if params["lr"] > 0.1 else {"value": bowl(params), "accuracy": 0.5}

    result = search.run(objective, SPACE, strategy="grid", grid={"lr": [0.01, 0.5], "batch_size": [32],
                                                                  "weight_decay": [1e-4], "momentum": [0.0]},
                        storage=None)
    t = result.trials.set_index("lr")
    assert t.loc[0.5, "state"] == "FAIL" and math.isnan(t.loc[0.5, "value"])
    assert t.loc[0.01, "accuracy"] == 0.5 and result.best_params["lr"] == 0.01
    assert search.best_so_far([math.nan, 3.0, math.nan, 1.0, 2.0]).tolist()[1:] == [3.0, 3.0, 1.0, 1.0]
    assert search.best_so_far([1.0, 3.0, 2.0], "maximize").tolist() == [1.0, 3.0, 3.0]


# ----------------------------------------------------------------------------------------
# storage: resume and share
# ----------------------------------------------------------------------------------------
def test_resuming_a_study_from_sqlite_continues_the_trial_count(tmp_path):
    url = f"sqlite:///{tmp_path}/studies/search.sqlite3"
    first = Counter()
    a = search.run(first, SPACE, strategy="random", n_trials=3, storage=url, study_name="resume", seed=1)
    assert len(first.calls) == 3 and (tmp_path / "studies" / "search.sqlite3").exists()
    second = Counter()
    b = search.run(second, SPACE, strategy="random", n_trials=5, storage=url, study_name="resume", seed=1)
    assert len(second.calls) == 2
    assert b.trials.trial.tolist() == [0, 1, 2, 3, 4]
    assert b.trials.iloc[:3].drop(columns="best_so_far").equals(a.trials.drop(columns="best_so_far"))
    assert second.calls[0] not in first.calls  # a resumed sampler does not repeat the first draws
    third = Counter()
    c = search.run(third, SPACE, strategy="random", n_trials=5, storage=url, study_name="resume", seed=1)
    assert third.calls == [] and c.trials.equals(b.trials)
    with pytest.raises(lrlab.ParameterError, match="another search"):
        search.run(bowl, {"lr": search.log_uniform(1e-3, 1.0)}, strategy="random", n_trials=6, storage=url,
                   study_name="resume")


def test_two_workers_share_one_grid_study(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.sqlite3"
    space = {"lr": [1e-3, 1e-2, 1e-1], "momentum": [0.0, 0.9]}
    one, two = Counter(lambda p: p["lr"] + p["momentum"]), Counter(lambda p: p["lr"] + p["momentum"])
    search.run(one, space, strategy="grid", n_trials=3, storage=url, study_name="g", seed=4)
    with pytest.raises(lrlab.ParameterError, match="grid's seed"):  # another seed numbers the grid differently
        search.run(two, space, strategy="grid", storage=url, study_name="g", seed=5)
    result = search.run(two, space, strategy="grid", storage=url, study_name="g", seed=4)
    calls = [(c["lr"], c["momentum"]) for c in one.calls + two.calls]
    assert len(calls) == 6 and set(calls) == set(itertools.product(space["lr"], space["momentum"]))
    assert result.n_trials == 6


def test_an_exception_fails_the_trial_and_a_rerun_evaluates_it(tmp_path):
    url = f"sqlite:///{tmp_path}/crash.sqlite3"
    calls = []

    def crashing(params):
        calls.append(params)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return bowl(params)

    with pytest.raises(RuntimeError, match="worker lost"):
        search.run(crashing, SPACE, strategy="random", n_trials=4, storage=url, study_name="c")
    result = search.run(crashing, SPACE, strategy="random", n_trials=4, storage=url, study_name="c")
    assert calls[2] == calls[1]  # the failed point is evaluated first
    assert (result.trials.state == "COMPLETE").sum() == 4 and (result.trials.state == "FAIL").sum() == 1


def test_fail_running_requeues_a_killed_workers_trial(tmp_path):
    import optuna

    url = f"sqlite:///{tmp_path}/killed.sqlite3"
    search.run(bowl, SPACE, strategy="random", n_trials=2, storage=url, study_name="k")
    study = optuna.load_study(study_name="k", storage=url)
    orphan = study.ask({n: r.distribution() for n, r in search.space(SPACE).items()})  # a worker dies here
    counter = Counter()
    search.run(counter, SPACE, strategy="random", n_trials=3, storage=url, study_name="k")
    assert counter.calls == []  # the running trial counts as spent
    assert search.fail_running(url, "k") == 1
    result = search.run(counter, SPACE, strategy="random", n_trials=3, storage=url, study_name="k")
    assert counter.calls == [orphan.params]
    assert (result.trials.state == "COMPLETE").sum() == 3
