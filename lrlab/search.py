"""Hyperparameter search on Optuna's samplers: grid, random and TPE over a backend-agnostic objective.

Seed rows: E003-1 (the random-search loop), C003-3 (grid vs random vs Bayesian
at equal budgets), C001-2 (a grid over initial LR × decay rate × decay steps),
E000-5 and E002-6 (LR grids). The objective is any function of a parameter
dict — it may train in TensorFlow, in PyTorch, or not train at all — so the
search code never imports a framework.

E003-1's flowchart is :func:`run_batched`'s loop, step by step:

1. *choose the ranges* — a search space, ``{name: range}`` with :func:`uniform`,
   :func:`log_uniform`, :func:`integer` or :func:`choice` (a plain list is a
   choice); checked by :func:`space`;
2. *sample a combination* — ``study.ask(space)``: Optuna's ``GridSampler``
   (``strategy="grid"``), ``RandomSampler`` (``"random"``) or ``TPESampler``
   (``"tpe"``, Bayesian: a tree-structured Parzen estimator), all seeded. No
   sampler is written here;
3. *train* — the objective, called with the sampled parameters, trains;
4. *evaluate* — and returns the value to minimise (or maximise);
5. *repeat until satisfied* — until the study holds ``n_trials`` trials;
6. *keep the best* — :class:`SearchResult` (``best_params``, ``best_value``,
   every trial, the best value so far after each trial).

**Storage, resuming, sharing.** A study lives in an Optuna storage: by default
the SQLite file :data:`DEFAULT_STORAGE` (relative to the working directory: the
run folder of ``lrlab run`` / the notebook's folder; ``runs/`` is ignored by
git), ``None`` for memory only, or any Optuna storage URL. ``n_trials`` is the
size the study should reach, not a number to add: running the same call again
after an interruption evaluates only the missing trials, and several workers
(processes or machines) pointing at one storage and ``study_name`` share the
work — give each worker its own ``seed`` so that random and TPE samplers do not
draw the same points, but the *same* seed for a grid (``GridSampler`` numbers the
grid's points in an order its seed shuffles; a grid study records its seed and
refuses another). A resumed random or TPE session seeds its sampler from ``seed`` and the
number of trials already there, so it never repeats the first session's draws;
it is therefore not the same sequence as an uninterrupted search. A worker
killed mid-trial leaves that trial ``RUNNING``, counted as spent;
:func:`fail_running` (once no worker is running) marks such trials failed and
queues their parameters, which the next run evaluates first.

**Batches.** :func:`run_batched` asks for up to ``batch`` trials before
evaluating them together, for objectives that train many models at once
(``fit_many``). Grid and random search propose points without looking at
results, so batching changes nothing for them; TPE runs with
``constant_liar=True`` so that the trials of one batch avoid each other.

**Failed trials.** An objective value that is NaN or infinite (a diverged run)
is recorded as a failed trial: it counts against the budget and never becomes
the best. An exception in the objective marks the batch's trials failed (not
counted), queues their parameters for the next run, and is raised again.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lrlab.params import ParameterError, check_choice, check_int

__all__ = [
    "DEFAULT_STORAGE",
    "Range",
    "STRATEGIES",
    "SearchResult",
    "best_so_far",
    "choice",
    "fail_running",
    "grid_counts",
    "grid_text",
    "grid_values",
    "integer",
    "log_uniform",
    "run",
    "run_batched",
    "space",
    "uniform",
]

#: the search strategies and the Optuna sampler each uses
STRATEGIES = {"grid": "GridSampler", "random": "RandomSampler", "tpe": "TPESampler"}
#: the default storage: a SQLite file under ``runs/`` of the working directory
DEFAULT_STORAGE = "sqlite:///runs/search.sqlite3"
_ATTR = "lrlab_search"
_FAILED = "lrlab_failed"


def _optuna():
    """Return the ``optuna`` module with its INFO logging silenced.

    The first import is made without tqdm's "IProgress not found" warning, which
    ``tqdm.auto`` (imported by Optuna) issues inside Jupyter when ipywidgets is
    missing: a notebook must write nothing to stderr.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


# ----------------------------------------------------------------------------------------
# the search space
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Range:
    """One hyperparameter's range: ``kind`` "float", "int" or "choice", its bounds or values, log scale or not."""

    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    values: tuple = ()

    def check(self, name: str) -> "Range":
        """Return this range after checking it; errors name the hyperparameter ``name``."""
        if self.kind == "choice":
            if not self.values or len(set(map(repr, self.values))) != len(self.values):
                raise ParameterError(f"{name}: values = {list(self.values)!r} are not allowed; expected a non-empty "
                                     "list of distinct values")
            for v in self.values:
                if not (v is None or isinstance(v, (str, bool, numbers.Real))):
                    raise ParameterError(f"{name}: value {v!r} is not allowed; expected numbers, strings, "
                                         "booleans or None")
            return self
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                    or (self.kind == "int" and value != int(value)):
                kind = "a whole number" if self.kind == "int" else "a finite number"
                raise ParameterError(f"{name}: {bound} = {value!r} is not allowed; expected {kind}")
        if not self.low < self.high:
            raise ParameterError(f"{name}: low = {self.low!r}, high = {self.high!r} is not allowed; expected "
                                 "low < high")
        if self.log and self.low <= 0:
            raise ParameterError(f"{name}: low = {self.low!r} is not allowed on a log scale; expected low > 0")
        return self

    def distribution(self):
        """Return the Optuna distribution of this range."""
        dist = _optuna().distributions
        CategoricalDistribution, FloatDistribution = dist.CategoricalDistribution, dist.FloatDistribution
        IntDistribution = dist.IntDistribution
        if self.kind == "choice":
            return CategoricalDistribution(list(self.values))
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    def describe(self) -> str:
        """Return a short text of the range (used to recognise a study's space on resuming)."""
        if self.kind == "choice":
            return f"choice{list(self.values)!r}"
        return f"{self.kind}[{self.low!r}, {self.high!r}{', log' if self.log else ''}]"


def uniform(low: float, high: float) -> Range:
    """Return a float range drawn uniformly in ``[low, high]``."""
    return Range("float", low, high)


def log_uniform(low: float, high: float) -> Range:
    """Return a float range drawn uniformly in ``log`` between ``low > 0`` and ``high`` (e.g. an LR)."""
    return Range("float", low, high, log=True)


def integer(low: int, high: int, log: bool = False) -> Range:
    """Return a whole-number range ``low … high`` (both included), uniform or log-uniform."""
    return Range("int", low, high, log=log)


def choice(*values) -> Range:
    """Return a choice among ``values`` (no order assumed by the samplers)."""
    return Range("choice", values=tuple(values))


def space(ranges) -> dict:
    """Return ``{name: Range}`` checked: each value a :class:`Range` or a list of values (a choice).

    A bad range raises :class:`lrlab.ParameterError` (a ``ValueError``) naming
    the hyperparameter: ``lr: low = 1, high = 0.1 is not allowed; expected low < high``.
    """
    if not isinstance(ranges, dict) or not ranges:
        raise ParameterError(f"space = {ranges!r} is not allowed; expected a non-empty dict of name: range")
    out = {}
    for name, value in ranges.items():
        if not isinstance(name, str) or not name:
            raise ParameterError(f"space: name {name!r} is not allowed; expected a non-empty string")
        if isinstance(value, (list, tuple, np.ndarray)):
            value = choice(*[v.item() if isinstance(v, np.generic) else v for v in value])
        if not isinstance(value, Range):
            raise ParameterError(f"{name} = {value!r} is not allowed; expected uniform(...), log_uniform(...), "
                                 "integer(...), choice(...) or a list of values")
        out[name] = value.check(name)
    return out


# ----------------------------------------------------------------------------------------
# grids
# ----------------------------------------------------------------------------------------
def _size(r: Range) -> float:
    """Return how many distinct grid values a range can give (inf for a float range)."""
    if r.kind == "choice":
        return len(r.values)
    if r.kind == "int":
        return int(r.high) - int(r.low) + 1
    return math.inf


def grid_counts(ranges, budget: int) -> dict:
    """Return ``{name: number of grid values}`` whose product is at most ``budget``.

    Every hyperparameter starts with one value; one more value is given to each
    in turn (in the space's order, so list the most important first) while the
    grid still fits the budget and the range has values left: budget 8 over four
    ranges gives 2×2×2×1, budget 24 gives 3×2×2×2, budget 81 gives 3×3×3×3.
    """
    ranges = space(ranges)
    budget = check_int("budget", budget, low=1)
    counts = {name: 1 for name in ranges}
    grown = True
    while grown:
        grown = False
        for name, r in ranges.items():
            total = math.prod(counts.values())
            if counts[name] < _size(r) and total // counts[name] * (counts[name] + 1) <= budget:
                counts[name] += 1
                grown = True
    return counts


def grid_values(ranges, counts) -> dict:
    """Return ``{name: [values]}``: each range cut into ``counts[name]`` cells and the middle of each cell taken.

    Float ranges take cell midpoints on their scale (``low·(high/low)^((i+½)/c)``
    on a log scale, ``low + (high−low)·(i+½)/c`` otherwise), so a grid of one
    value sits in the middle of the range and no grid point sits on a bound;
    whole-number ranges round those points; a choice with ``c`` values keeps
    the values at positions ``⌊(i+½)·n/c⌋``. ``counts`` is a dict or one int for all.
    """
    ranges = space(ranges)
    if isinstance(counts, numbers.Integral):
        counts = {name: int(counts) for name in ranges}
    if not isinstance(counts, dict) or set(counts) != set(ranges):
        raise ParameterError(f"counts = {counts!r} is not allowed; expected one whole number >= 1 per "
                             "hyperparameter: " + ", ".join(ranges))
    out = {}
    for name, r in ranges.items():
        c = check_int(f"counts[{name!r}]", counts[name], low=1)
        if c > _size(r):
            raise ParameterError(f"counts[{name!r}] = {c} is not allowed; {name} has only {_size(r)} values")
        u = (np.arange(c) + 0.5) / c
        if r.kind == "choice":
            out[name] = [r.values[int(i)] for i in np.floor(u * len(r.values))]
            continue
        points = r.low * (r.high / r.low) ** u if r.log else r.low + (r.high - r.low) * u
        if r.kind == "int":
            points = np.unique(np.round(points).astype(np.int64))
            if len(points) < c:
                raise ParameterError(f"counts[{name!r}] = {c} is not allowed; rounding leaves {len(points)} "
                                     "distinct values")
            out[name] = [int(p) for p in points]
        else:
            out[name] = [float(p) for p in points]
    return out


def grid_text(ranges, budget: int) -> str:
    """Return the grid a budget allows, as text: the counts, their product, and each hyperparameter's values.

    The counts are :func:`grid_counts`', the values :func:`grid_values`' (floats
    to two significant digits).

    >>> grid_text({"lr": log_uniform(1e-4, 1.0), "batch_size": [32, 128]}, 4)
    '2 x 2 = 4 points; lr 0.001, 0.1; batch_size 32, 128'
    """
    counts = grid_counts(ranges, budget)
    values = grid_values(ranges, counts)
    shown = {k: ", ".join(f"{v:.2g}" if isinstance(v, float) else str(v) for v in vs) for k, vs in values.items()}
    return (f"{' x '.join(str(c) for c in counts.values())} = {math.prod(counts.values())} points; "
            + "; ".join(f"{k} {v}" for k, v in shown.items()))


# ----------------------------------------------------------------------------------------
# the result
# ----------------------------------------------------------------------------------------
def best_so_far(values, direction: str = "minimize") -> np.ndarray:
    """Return the best finite value among the first 1, 2, … trials (NaN before the first finite one)."""
    values = np.asarray(values, dtype=np.float64)
    sign = 1.0 if check_choice("direction", direction, ("minimize", "maximize")) == "minimize" else -1.0
    running = np.minimum.accumulate(np.where(np.isfinite(values), sign * values, np.inf))
    return np.where(np.isfinite(running), sign * running, np.nan)


@dataclass
class SearchResult:
    """A finished search: every trial, the best one, and where the study is stored.

    ``trials`` has one row per trial in the order they were asked: ``trial``
    (Optuna's number), one column per hyperparameter, ``value``, ``state``
    ("COMPLETE", "FAIL", …), ``best_so_far`` and any extra numbers the
    objective returned.
    """

    trials: pd.DataFrame
    best_params: dict
    best_value: float
    study_name: str
    storage: str | None
    direction: str = "minimize"

    @property
    def n_trials(self) -> int:
        return len(self.trials)


def _result(study, names, study_name, storage, direction) -> SearchResult:
    TrialState = _optuna().trial.TrialState

    rows = []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        value = t.value if t.state == TrialState.COMPLETE else math.nan
        rows.append({"trial": t.number, **{n: t.params.get(n) for n in names}, "value": value,
                     "state": t.state.name, **t.user_attrs})
    trials = pd.DataFrame(rows)
    if len(trials):
        trials.insert(trials.columns.get_loc("state") + 1, "best_so_far", best_so_far(trials["value"], direction))
    finite = trials[np.isfinite(trials["value"].astype(float))] if len(trials) else trials
    if len(finite):
        best = finite.loc[finite["value"].idxmin() if direction == "minimize" else finite["value"].idxmax()]
        best_params, best_value = {n: best[n] for n in names}, float(best["value"])
        best_params = {k: v.item() if isinstance(v, np.generic) else v for k, v in best_params.items()}
    else:
        best_params, best_value = {}, math.nan
    return SearchResult(trials, best_params, best_value, study_name, storage, direction)


# ----------------------------------------------------------------------------------------
# running a search
# ----------------------------------------------------------------------------------------
def _storage_url(storage):
    """Return ``storage`` ready for Optuna: None (memory), or a URL; a SQLite file's folder is created."""
    if storage is None:
        return None
    if not isinstance(storage, str) or "://" not in storage:
        raise ParameterError(f"storage = {storage!r} is not allowed; expected None (memory) or a storage URL "
                             "such as 'sqlite:///runs/search.sqlite3'")
    if storage.startswith("sqlite:///"):
        Path(storage[len("sqlite:///"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return storage


def _sampler(strategy, seed, grid, n_startup_trials):
    optuna = _optuna()

    if strategy == "grid":
        return optuna.samplers.GridSampler(grid, seed=seed)
    if strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials, constant_liar=True)


def _fingerprint(strategy, ranges, grid, direction, seed) -> str:
    spec = {"strategy": strategy, "direction": direction, "grid_seed": seed if strategy == "grid" else None,
            "space": {name: r.describe() for name, r in ranges.items()},
            "grid": None if grid is None else {k: [repr(v) for v in vs] for k, vs in grid.items()}}
    return json.dumps(spec, sort_keys=True)


def _tell(study, trial, outcome):
    """Tell Optuna the outcome of one trial: a number, or a dict with ``value`` and extra numbers."""
    extra = {}
    if isinstance(outcome, dict):
        if "value" not in outcome:
            raise ParameterError(f"objective returned {outcome!r}; a dict must hold the trial's 'value'")
        extra = {k: v for k, v in outcome.items() if k != "value"}
        outcome = outcome["value"]
    if isinstance(outcome, bool) or not isinstance(outcome, numbers.Real):
        raise ParameterError(f"objective returned {outcome!r}; expected a number (or a dict with 'value')")
    for key, value in extra.items():
        trial.set_user_attr(key, value.item() if isinstance(value, np.generic) else value)
    value = float(outcome)
    if not math.isfinite(value):
        trial.set_user_attr(_FAILED, "value not finite")
    _finish(study, trial, value if math.isfinite(value) else None)


def _spent(study) -> int:
    """Return how many trials count against the budget: complete, running, or failed by their value."""
    TrialState = _optuna().trial.TrialState

    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state in (TrialState.COMPLETE, TrialState.RUNNING)
               or (t.state == TrialState.FAIL and _FAILED in t.user_attrs))


def _abandon(study, trials) -> None:
    """Mark ``trials`` (Optuna trials or frozen trials) failed and queue their parameters to be evaluated again."""
    Trial = _optuna().trial.Trial

    for t in trials:
        params = dict(t.params)
        _finish(study, t if isinstance(t, Trial) else t.number, None)
        study.enqueue_trial(params)


def _finish(study, trial, value):
    """Tell Optuna a trial is finished: COMPLETE with ``value``, or FAIL when ``value`` is None."""
    TrialState = _optuna().trial.TrialState

    try:
        if value is not None:
            study.tell(trial, value)
        else:
            study.tell(trial, state=TrialState.FAIL)
    except RuntimeError as error:
        # GridSampler calls study.stop() once the last grid point is told, which Optuna allows only inside
        # study.optimize (optuna/optuna#4121, #5141; documented in GridSampler's note since #5153). The trial is
        # stored before that call, so the search is complete: nothing is lost.
        if "Study.stop" not in str(error):
            raise


def run_batched(objective_many, ranges, *, strategy: str, n_trials: int | None = None, seed: int = 0,
                storage: str | None = DEFAULT_STORAGE, study_name: str | None = None,
                direction: str = "minimize", batch: int = 1, grid=None, n_startup_trials: int = 10) -> SearchResult:
    """Return the :class:`SearchResult` of a search whose objective evaluates a batch of trials at once.

    ``objective_many(list of parameter dicts) -> list of outcomes`` (a number,
    or a dict with ``value`` and extra numbers to keep with the trial); it is
    called with up to ``batch`` trials at a time. ``strategy`` is ``"grid"``,
    ``"random"`` or ``"tpe"`` (:data:`STRATEGIES`). For a grid, ``grid`` gives
    the number of values per hyperparameter (an int or a dict, see
    :func:`grid_values`) or the values themselves (``{name: [values]}``);
    without it, choices keep all their values and ``n_trials`` sets the counts
    (:func:`grid_counts`). ``n_trials`` is the size the study should reach
    (default for a grid: all its points; required otherwise). TPE draws its
    first ``n_startup_trials`` at random. See the module text for storage,
    resuming and sharing.
    """
    optuna = _optuna()
    strategy = check_choice("strategy", strategy, tuple(STRATEGIES))
    direction = check_choice("direction", direction, ("minimize", "maximize"))
    ranges = space(ranges)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    batch = check_int("batch", batch, low=1)
    n_startup_trials = check_int("n_startup_trials", n_startup_trials, low=0)
    grid_points = None
    if strategy == "grid":
        grid_points = _grid_for(ranges, grid, n_trials)
        size = math.prod(len(v) for v in grid_points.values())
        n_trials = size if n_trials is None else check_int("n_trials", n_trials, low=1, high=size)
    elif grid is not None:
        raise ParameterError(f"grid = {grid!r} is not allowed with strategy = {strategy!r}; only with 'grid'")
    elif n_trials is None:
        raise ParameterError(f"n_trials = None is not allowed with strategy = {strategy!r}; expected a whole "
                             "number >= 1")
    n_trials = check_int("n_trials", n_trials, low=1)
    study_name = f"{strategy}-seed{seed}" if study_name is None else study_name
    if not isinstance(study_name, str) or not study_name:
        raise ParameterError(f"study_name = {study_name!r} is not allowed; expected a non-empty string")
    url = _storage_url(storage)
    fingerprint = _fingerprint(strategy, ranges, grid_points, direction, seed)
    # a probe without a sampler tells how many trials the study already holds (0 for a new study)
    study = optuna.create_study(storage=url, study_name=study_name, direction=direction, load_if_exists=True)
    stored = study.user_attrs.get(_ATTR)
    if stored is None:
        study.set_user_attr(_ATTR, fingerprint)
    elif stored != fingerprint:
        raise ParameterError(f"study_name = {study_name!r} is not allowed: the study in {url!r} was made by "
                             "another search (strategy, space, grid, direction, or a grid's seed); choose another "
                             "study_name")
    existing = len(study.get_trials(deepcopy=False))
    # GridSampler numbers its points in a seed-shuffled order: the seed must stay the same for the whole study
    fresh = existing == 0 or strategy == "grid"
    sampler_seed = seed if fresh else int(np.random.SeedSequence([seed, existing]).generate_state(1)[0])
    study.sampler = _sampler(strategy, sampler_seed, grid_points, n_startup_trials)
    distributions = {name: r.distribution() for name, r in ranges.items()}
    names = list(ranges)
    while True:
        remaining = n_trials - _spent(study)
        if remaining <= 0:
            break
        trials = [study.ask(distributions) for _ in range(min(batch, remaining))]
        params = [{n: t.params[n] for n in names} for t in trials]
        try:
            outcomes = list(objective_many(params))
            if len(outcomes) != len(trials):
                raise ParameterError(f"objective returned {len(outcomes)} outcomes for {len(trials)} trials")
        except BaseException:
            _abandon(study, trials)
            raise
        for t, outcome in zip(trials, outcomes):
            _tell(study, t, outcome)
    return _result(study, names, study_name, url, direction)


def _grid_for(ranges, grid, n_trials) -> dict:
    """Return the grid's ``{name: [values]}`` from ``grid`` (counts or values) or from the budget ``n_trials``."""
    if grid is None:
        if all(r.kind == "choice" for r in ranges.values()):
            return {name: list(r.values) for name, r in ranges.items()}
        if n_trials is None:
            raise ParameterError("n_trials = None is not allowed for a grid over continuous ranges without grid=; "
                                 "expected a budget (or grid= counts or values)")
        return grid_values(ranges, grid_counts(ranges, n_trials))
    if isinstance(grid, dict) and grid and all(isinstance(v, (list, tuple, np.ndarray)) for v in grid.values()):
        if set(grid) != set(ranges):
            raise ParameterError(f"grid names {sorted(grid)} are not allowed; expected the space's {sorted(ranges)}")
        out = {}
        for name, values in grid.items():
            values = [v.item() if isinstance(v, np.generic) else v for v in values]
            r = ranges[name]
            bad = [v for v in values if (v not in r.values if r.kind == "choice"
                                         else not (isinstance(v, numbers.Real) and r.low <= v <= r.high))]
            if not values or bad:
                raise ParameterError(f"grid[{name!r}] = {values!r} is not allowed; expected values inside "
                                     f"{r.describe()}")
            out[name] = values
        return out
    return grid_values(ranges, grid)


def run(objective, ranges, *, strategy: str, n_trials: int | None = None, seed: int = 0,
        storage: str | None = DEFAULT_STORAGE, study_name: str | None = None, direction: str = "minimize",
        grid=None, n_startup_trials: int = 10) -> SearchResult:
    """Return the :class:`SearchResult` of E003-1's loop: sample, train and evaluate one trial at a time, keep the best.

    ``objective(params: dict)`` returns the number to minimise (or a dict with
    ``value`` and extra numbers to keep); the other arguments are
    :func:`run_batched`'s.
    """
    if not callable(objective):
        raise ParameterError(f"objective = {objective!r} is not allowed; expected a function of a parameter dict")
    return run_batched(lambda many: [objective(p) for p in many], ranges, strategy=strategy, n_trials=n_trials,
                       seed=seed, storage=storage, study_name=study_name, direction=direction, batch=1, grid=grid,
                       n_startup_trials=n_startup_trials)


def fail_running(storage: str, study_name: str) -> int:
    """Return how many trials left ``RUNNING`` (by a killed worker) were marked failed and queued again.

    Call it only when no worker is running that study: their trials would be
    marked failed too. The next :func:`run` evaluates the queued parameters
    first, so the search ends with the trials it would have had.
    """
    optuna = _optuna()
    study = optuna.load_study(study_name=study_name, storage=_storage_url(storage))
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    _abandon(study, running)
    return len(running)
