"""Grid, random and TPE search at equal budgets, over seeds and frameworks: the mechanics of chapter 7 (C003-3, E003-1).

Chapter 7 trains the digits MLP inside :mod:`lrlab.search` and compares the
strategies. Its cells name what is compared; this module does the bookkeeping:

* :func:`trial_objective` — the objective: a batch of proposed trials trained
  with ``fit_many`` (grouped by batch size), each trial's validation loss;
* :func:`interrupted_and_resumed` — E003-1's loop in a temporary SQLite study,
  stopped at half its trials and resumed (:class:`Resumed`, :func:`loop_table`);
* :func:`compare` — every strategy, budget, seed and framework, each search timed
  inside and outside the objective (:func:`timed_search`); its :class:`Comparison` answers what the chapter asks
  (the best at a budget, the board, the trials pooled, the sampler's cost);
* :func:`plot_best_so_far`, :func:`plot_trials_by_lr` — the chapter's two figures;
* :func:`accuracy_on_test` — one configuration retrained with ``fit`` and scored on the test set;
* :func:`sampler_seconds`, :func:`ratio_category` — the samplers' own cost, and the
  category a wall-time ratio is reported as;
* :func:`judge` and :func:`verdict_table` — C003-3's three parts in one framework,
  by the rules :func:`rules` states.

A search's *result* is the best validation loss among its trials; random search
and TPE at a smaller budget are the first trials of the search at the largest
budget (the horizon), read from its best-so-far column.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lrlab import part_verdicts, report, search, verdicts

__all__ = ["RATIO_CATEGORIES", "STRATEGIES", "Comparison", "Resumed", "accuracy_on_test", "compare", "described",
           "interrupted_and_resumed", "judge", "loop_table", "one_at_a_time", "plot_best_so_far", "plot_trials_by_lr",
           "ratio_category", "rules", "sampler_seconds", "stat", "timed_search", "trial_objective", "verdict_table"]

#: the strategies compared, in the order of every table and figure
STRATEGIES = ("grid", "random", "tpe")
#: the categories a TPE / random time ratio is reported as: cut at 2 and at 2 moved by ±50 % in log (√2, 2√2)
RATIO_CATEGORIES = ("below 1.41x", "1.41x to 2x", "2x to 2.83x", "2.83x or more")


# ----------------------------------------------------------------------------------------
# the objective
# ----------------------------------------------------------------------------------------
def trial_objective(backend, spec, data, *, optimizer: str, loss: str, epochs: int, seed: int, pad_to=(),
                    metric: str = "val_loss"):
    """Return an objective for :func:`lrlab.search.run_batched`: train a batch of trials, return their val losses.

    Each proposed point holds ``batch_size`` and the optimizer's arguments
    (e.g. ``lr``, ``weight_decay``, ``beta_1``). The trials that share a batch
    size are trained together by ``backend.fit_many`` (``spec``'s network on
    ``data.train``, validated on ``data.val``, initial weights and batch order
    from ``seed``); each trial's outcome is ``{"value": <metric>, "val_loss":
    ..., "val_accuracy": ...}`` of its last epoch (``metric`` names the column:
    ``"val_loss"`` to minimise, ``"val_accuracy"`` to maximise), NaN for a run
    that did not end ``"ok"`` (a failed trial). ``pad_to`` (ascending sizes) pads each group with copies of its last
    configuration to the smallest size that holds it, so that a framework that
    traces a graph per shape (TensorFlow) sees few shapes.
    """
    def evaluate(points):
        out = [None] * len(points)
        for bs in sorted({p["batch_size"] for p in points}):
            idx = [i for i, p in enumerate(points) if p["batch_size"] == bs]
            configs = [{k: v for k, v in points[i].items() if k != "batch_size"} | {"init_seed": seed} for i in idx]
            configs += configs[-1:] * (next((n for n in pad_to if n >= len(idx)), len(idx)) - len(idx))
            h = backend.fit_many(spec, data.train, data.val, optimizer=optimizer, loss=loss, epochs=epochs,
                                 batch_size=bs, configs=configs, seed=seed)
            for i, row in zip(idx, h.groupby("model").tail(1).sort_values("model").itertuples()):
                ok = row.status == "ok"
                out[i] = {key: getattr(row, column) if ok else math.nan
                          for key, column in (("value", metric), ("val_loss", "val_loss"),
                                              ("val_accuracy", "val_accuracy"))}
        return out
    return evaluate


def one_at_a_time(objective_many):
    """Return E003-1's objective from a batched one: ``params -> objective_many([params])[0]`` (one trial alone)."""
    return lambda params: objective_many([params])[0]


# ----------------------------------------------------------------------------------------
# E003-1: the loop, stored, interrupted and resumed
# ----------------------------------------------------------------------------------------
@dataclass
class Resumed:
    """A random search run in two sessions: ``first`` (the study after the first), ``result`` (after the second).

    ``trained`` is the number of trials the objective trained in each session.
    """

    first: search.SearchResult
    result: search.SearchResult
    trained: tuple

    def line(self, name: str) -> str:
        """Return the sentence on what each session trained and what the study held after it."""
        t = self.result.trials
        return (f"{name:>5}: first session trained {self.trained[0]} trials (study holds {self.first.n_trials}); "
                f"the resumed session trained {self.trained[1]} more (study holds {self.result.n_trials}, numbered "
                f"{t.trial.min()}..{t.trial.max()})")

    def best_line(self) -> str:
        """Return the best trial's parameters (floats to four decimals) and its value."""
        best = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.result.best_params.items()}
        return f"best: {best} val loss {self.result.best_value:.3f}"


def interrupted_and_resumed(objectives: dict, ranges, *, n_trials: int, seed: int) -> dict:
    """Return ``{name: Resumed}``: for each objective, a random search stopped at half its trials and resumed.

    Each study ``e003-1-<name>`` lives in one SQLite file of a temporary folder
    (removed afterwards). The first session asks for ``n_trials // 2`` trials;
    the second calls :func:`lrlab.search.run` again with ``n_trials``, so only
    the missing trials are trained. Every objective gets the same sampler seed.
    """
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/e003-1.sqlite3"
        for name, objective in objectives.items():
            counted = []

            def trial(params, objective=objective, counted=counted):
                counted.append(1)
                return objective(params)
            kwargs = dict(strategy="random", seed=seed, storage=url, study_name=f"e003-1-{name}")
            first = search.run(trial, ranges, n_trials=n_trials // 2, **kwargs)
            in_first = len(counted)
            result = search.run(trial, ranges, n_trials=n_trials, **kwargs)
            out[name] = Resumed(first, result, (in_first, len(counted) - in_first))
    return out


def loop_table(loops: dict) -> pd.DataFrame:
    """Return the trials of :func:`interrupted_and_resumed`'s searches as printed text.

    The parameters are the first search's (every search drew the same ones);
    one ``<name> val loss`` column per search; ``best so far`` of the first.
    """
    t = next(iter(loops.values())).result.trials
    return pd.DataFrame({"trial": t.trial, "lr": t.lr.map(lambda v: f"{v:.2g}"), "batch": t.batch_size,
                         "weight decay": t.weight_decay.map(lambda v: f"{v:.2g}"),
                         "beta_1": t.beta_1.map(lambda v: f"{v:.2f}"),
                         **{f"{name} val loss": r.result.trials.value.map(lambda v: f"{v:.3f}")
                            for name, r in loops.items()},
                         "best so far": t.best_so_far.map(lambda v: f"{v:.3f}")})


# ----------------------------------------------------------------------------------------
# C003-3: the comparison
# ----------------------------------------------------------------------------------------
def timed_search(objective_many, ranges, **kwargs):
    """Return :func:`lrlab.search.run_batched`'s result and ``(seconds outside the objective, seconds inside)``."""
    inside = [0.0]

    def timed(points):
        tick = time.perf_counter()
        out = objective_many(points)
        inside[0] += time.perf_counter() - tick
        return out
    tick = time.perf_counter()
    result = search.run_batched(timed, ranges, **kwargs)
    return result, (time.perf_counter() - tick - inside[0], inside[0])


@dataclass
class Comparison:
    """Every search of :func:`compare`, keyed ``(framework, strategy, budget, seed)``.

    ``results`` holds each :class:`lrlab.search.SearchResult`; ``seconds`` its
    ``(sampler seconds, training seconds)``: the wall time outside and inside
    the objective. Grid searches exist at every budget; random and TPE only at
    the horizon (the largest budget), whose first trials are the smaller budgets'.
    """

    frameworks: list
    seeds: list
    budgets: list
    results: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        """The largest budget: the length of the random and TPE searches."""
        return self.budgets[-1]

    def best_at(self, framework, strategy, budget, seed) -> float:
        """Return the best value (validation loss, or the search's metric) ``strategy`` reached within ``budget``."""
        if strategy == "grid":
            return self.results[framework, "grid", budget, seed].best_value
        return float(self.results[framework, strategy, self.horizon, seed].trials.best_so_far.iloc[budget - 1])

    def board(self) -> pd.DataFrame:
        """Return, per framework, strategy and budget, the median, min and max best over seeds, and the seeds won.

        A seed is won by the strategy with the lowest best (rounded to six
        decimals); a tie goes to the first of :data:`STRATEGIES`.
        """
        rows = []
        for name in self.frameworks:
            for budget in self.budgets:
                per_seed = np.array([[self.best_at(name, st, budget, s) for s in self.seeds] for st in STRATEGIES])
                wins = np.bincount(per_seed.round(6).argmin(axis=0), minlength=len(STRATEGIES))
                rows += [{"framework": name, "strategy": st, "budget": budget, "median best val loss": np.median(v),
                          "min": v.min(), "max": v.max(), "seeds where best of the three": wins[i]}
                         for i, (st, v) in enumerate(zip(STRATEGIES, per_seed))]
        return pd.DataFrame(rows)

    def totals_line(self) -> str:
        """Return how many searches and trials ran, and their wall time (a ``time:`` line)."""
        return (f"{len(self.results)} searches, {sum(r.n_trials for r in self.results.values())} trials; "
                f"time: {sum(sum(v) for v in self.seconds.values()):.1f} s")

    def pooled(self, framework) -> pd.DataFrame:
        """Return every trial of ``framework``'s searches, with its ``strategy`` and ``budget``."""
        return pd.concat([r.trials.assign(strategy=k[1], budget=k[2]) for k, r in self.results.items()
                          if k[0] == framework], ignore_index=True)

    def coverage_lines(self, framework, within: float = 1.25) -> list[str]:
        """Return two lines on the learning rates the horizon's searches tried.

        The median over seeds of the distinct learning rates per search; and the
        range of learning rates of the trials whose loss is within ``within``
        times the best loss ever seen, with each strategy's share of its trials there.
        """
        pooled, h = self.pooled(framework), self.horizon
        distinct = {st: np.median([self.results[framework, st, h, s].trials.lr.nunique() for s in self.seeds])
                    for st in STRATEGIES}
        good = pooled.value <= within * pooled.value.min()
        shares = [f"{st} {100 * good[(pooled.strategy == st) & (pooled.budget == h)].mean():.0f} %"
                  for st in STRATEGIES]
        return [f"distinct learning rates per budget-{h} search (median over seeds): "
                + ", ".join(f"{k} {v:g}" for k, v in distinct.items()),
                f"trials within {100 * (within - 1):.0f} % of the best loss ever seen ({pooled.value.min():.3f}): "
                f"learning rates {pooled.lr[good].min():.2g} to {pooled.lr[good].max():.2g}; share of budget-{h} "
                "trials there: " + ", ".join(shares)]

    def agreement_lines(self) -> list[str]:
        """Return how far the two frameworks' searches agree, trial by trial (one line if one framework ran).

        Searches of the same strategy, budget and seed that tried the same
        learning rates in the same order are paired; their trials' val losses are
        compared (a failed trial counts as a loss of 9), and so are their best trials.
        """
        if len(self.frameworks) != 2:
            return ["one framework requested: nothing to compare"]
        a_fw, b_fw = self.frameworks
        pairs = [(self.results[k], self.results[(b_fw,) + k[1:]]) for k in self.results if k[0] == a_fw]
        fixed = [(a.trials.value.to_numpy(), b.trials.value.to_numpy())
                 for a, b in pairs if a.trials.lr.equals(b.trials.lr)]
        gaps = np.concatenate([np.abs(np.nan_to_num(a, nan=9.0) - np.nan_to_num(b, nan=9.0)) for a, b in fixed])
        same_best = sum(int(np.nanargmin(a)) == int(np.nanargmin(b)) for a, b in fixed)
        tpe_same = sum(self.results[a_fw, "tpe", self.horizon, s].trials.lr.equals(
            self.results[b_fw, "tpe", self.horizon, s].trials.lr) for s in self.seeds)
        return [f"searches that tried the same configurations in {a_fw} and {b_fw}: {len(fixed)} of {len(pairs)} "
                f"(TPE: {tpe_same} of {len(self.seeds)} seeds)",
                f"their {len(gaps)} trials: share whose val losses agree within 1e-3: "
                f"{report.share_text(float(np.mean(gaps < 1e-3)))}; the same best trial in both: {same_best} of "
                f"{len(fixed)} searches"]

    def sampler_cost(self, framework) -> dict:
        """Return the sampler's cost in ``framework``'s horizon searches of random search and TPE.

        ``log_ratio``: ``(mean, std)`` over seeds of ``log10`` of TPE's over random
        search's sampler seconds per trial (std None with one seed); ``share``: the
        median share of the sampler in TPE's search wall time; ``ms``: per
        strategy, the median over seeds of ``(sampler, training)`` milliseconds per trial.
        """
        h = self.horizon
        per = {st: np.array([self.seconds[framework, st, h, s] for s in self.seeds]) / h for st in ("random", "tpe")}
        log_ratio = np.log10(per["tpe"][:, 0] / per["random"][:, 0])
        return {"log_ratio": (float(log_ratio.mean()), float(log_ratio.std(ddof=1)) if len(self.seeds) > 1 else None),
                "share": float(np.median(per["tpe"][:, 0] / per["tpe"].sum(axis=1))),
                "ms": {k: 1000 * np.median(v, axis=0) for k, v in per.items()}}

    def cost_lines(self, framework) -> list[str]:
        """Return two lines of :meth:`sampler_cost`: times per trial (``time:``), the ratio's category, the share."""
        cost, h = self.sampler_cost(framework), self.horizon
        ms = cost["ms"]
        return [f"{framework:>5}, budget-{h} searches, per trial (median over seeds): sampler random time: "
                f"{ms['random'][0]:.1f} ms, TPE time: {ms['tpe'][0]:.1f} ms; TPE's training time: "
                f"{ms['tpe'][1]:.0f} ms",
                f"{'':>5} TPE / random sampler time: {ratio_category(10 ** cost['log_ratio'][0])}; TPE's sampler "
                f"share of its search's wall time: {report.share_text(cost['share'])}"]

    def ahead(self, framework, budget, threshold: float) -> tuple[int, int]:
        """Return the seeds where random search beat the grid by at least ``threshold``, and where the grid beat it."""
        gap = np.array([self.best_at(framework, "grid", budget, s) - self.best_at(framework, "random", budget, s)
                        for s in self.seeds])
        return int((gap >= threshold).sum()), int((gap <= -threshold).sum())


def compare(make_objective, frameworks, ranges, *, seeds, budgets, tpe_batch: int, tpe_startup: int,
            direction: str = "minimize") -> Comparison:
    """Return the :class:`Comparison` of grid, random and TPE search in each framework, for each seed.

    ``make_objective(framework, seed)`` returns the batched objective. Grid
    search runs at every budget (its points from :func:`lrlab.search.grid_counts`),
    random search and TPE at the largest; random search proposes all its trials
    at once, TPE ``tpe_batch`` at a time after ``tpe_startup`` random ones. Every
    study is in memory, named ``<strategy>-<budget>-seed<seed>``, its sampler
    seeded with the seed; ``direction`` is the objective's (``"maximize"`` for an
    accuracy).
    """
    c = Comparison(list(frameworks), list(seeds), list(budgets))
    for name in frameworks:
        for seed in seeds:
            for strategy in STRATEGIES:
                for budget in (c.budgets if strategy == "grid" else [c.horizon]):
                    key = name, strategy, budget, seed
                    c.results[key], c.seconds[key] = timed_search(
                        make_objective(name, seed), ranges, strategy=strategy, n_trials=budget, seed=seed,
                        batch=tpe_batch if strategy == "tpe" else budget, n_startup_trials=tpe_startup,
                        storage=None, study_name=f"{strategy}-{budget}-seed{seed}", direction=direction)
    return c


# ----------------------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------------------
def plot_best_so_far(c: Comparison, framework, ylim=(0.1, 0.6)):
    """Draw ``framework``'s searches in two panels and return the figure.

    Left: the best validation loss so far over the horizon's trials, median over
    seeds with the band from min to max, per strategy; right: each seed's best
    at each budget.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    trials_axis = np.arange(1, c.horizon + 1)
    for i, strategy in enumerate(STRATEGIES):
        curves = np.array([c.results[framework, strategy, c.horizon, s].trials.best_so_far.to_numpy()[:c.horizon]
                           for s in c.seeds])
        label = f"{strategy}: median over seeds" + (" (grid order)" if strategy == "grid" else "")
        axes[0].plot(trials_axis, np.nanmedian(curves, axis=0), color=f"C{i}", label=label)
        axes[0].fill_between(trials_axis, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), color=f"C{i}",
                             alpha=0.15, step=None)
        for j, budget in enumerate(c.budgets):
            values = [c.best_at(framework, strategy, budget, s) for s in c.seeds]
            axes[1].scatter(np.full(len(values), j * 4 + i) + np.linspace(-0.2, 0.2, len(values)), values,
                            color=f"C{i}", s=14, label=strategy if j == 0 else None)
    axes[0].set(xlabel="trials", ylabel="best validation loss so far", ylim=ylim,
                title=f"best so far ({framework}, {len(c.seeds)} seeds: median, band = min to max)")
    axes[1].set(xticks=[j * 4 + 1 for j in range(len(c.budgets))], xticklabels=[f"budget {b}" for b in c.budgets],
                ylabel="best validation loss", ylim=ylim, title="each seed's best at each budget")
    for ax in axes:
        ax.legend(fontsize=7)
    return fig


def plot_trials_by_lr(c: Comparison, framework):
    """Draw every trial of ``framework``'s horizon searches against its learning rate, and where each strategy
    spent its trials (a histogram of ``log10 lr`` from -5 to 0); return the figure."""
    import matplotlib.pyplot as plt

    pooled = c.pooled(framework)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for i, strategy in enumerate(STRATEGIES):
        part = pooled[(pooled.strategy == strategy) & (pooled.budget == c.horizon)]
        axes[0].scatter(part.lr, part.value, s=10, color=f"C{i}", alpha=0.7, label=strategy)
        axes[1].hist(np.log10(part.lr), bins=np.linspace(-5, 0, 26), color=f"C{i}", alpha=0.5, label=strategy)
    axes[0].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="validation loss",
                title=f"every trial of the budget-{c.horizon} searches")
    axes[1].set(xlabel="log10 learning rate", ylabel="trials", title="where each strategy spent its trials")
    for ax in axes:
        ax.legend(fontsize=7)
    return fig


# ----------------------------------------------------------------------------------------
# the test set, the samplers' cost
# ----------------------------------------------------------------------------------------
def accuracy_on_test(backend, spec, data, params, *, seed: int, loss: str, epochs: int) -> float:
    """Return the test accuracy of one AdamW configuration (``lr``, ``batch_size``, ``weight_decay``, ``beta_1``).

    The network ``spec`` is built with ``seed``'s initial weights, trained with
    ``fit`` on ``data.train`` (``seed``'s batch order) and evaluated once on ``data.test``.
    """
    m = backend.mlp(spec.sizes, "relu", "softmax", seed=seed)
    optimizer = backend.optimizer("adamw", params["lr"], weight_decay=params["weight_decay"], beta_1=params["beta_1"])
    backend.fit(m, data.train, optimizer=optimizer, loss=loss, epochs=epochs, batch_size=params["batch_size"],
                seed=seed)
    return backend.evaluate(m, data.test, loss=loss)["accuracy"]


def sampler_seconds(ranges, strategy: str, *, n_trials: int, batch: int, seed: int, n_startup_trials: int,
                    repeats: int = 1) -> float:
    """Return the seconds per trial of a search whose objective trains nothing: the sampler's own cost.

    The objective is a cheap function of the learning rate,
    ``(log10 lr + 2.5)²``, so that TPE has something to model; trials are
    proposed ``batch`` at a time. With ``repeats > 1`` the search is timed
    ``repeats`` times and the median of all but the first (a warm-up) is returned.
    """
    def once():
        tick = time.perf_counter()
        search.run_batched(lambda points: [(math.log10(p["lr"]) + 2.5) ** 2 for p in points], ranges,
                           strategy=strategy, n_trials=n_trials, batch=batch, seed=seed,
                           n_startup_trials=n_startup_trials, storage=None)
        return (time.perf_counter() - tick) / n_trials
    if repeats == 1:
        return once()
    return float(np.median([once() for _ in range(repeats)][1:]))


def ratio_category(ratio: float, coarse: bool = False) -> str:
    """Return the category of a TPE / random time ratio (:data:`RATIO_CATEGORIES`), split at √2, 2 and 2√2.

    ``coarse=True`` splits at the rule's threshold only (``"below 2x"``, ``"2x or
    more"``): for a ratio measured once, whose wall times move with the machine's
    load by more than the ±50 % bands (the samplers alone measured 3.0x on an
    idle machine and 5.0x on a loaded one).

    >>> ratio_category(1.2), ratio_category(2.0), ratio_category(5.0), ratio_category(2.5, coarse=True)
    ('below 1.41x', '2x to 2.83x', '2.83x or more', '2x or more')
    """
    if coarse:
        return "2x or more" if ratio >= 2.0 else "below 2x"
    return RATIO_CATEGORIES[int(np.searchsorted([2**0.5, 2.0, 2**1.5], ratio, side="right"))]


# ----------------------------------------------------------------------------------------
# verdicts
# ----------------------------------------------------------------------------------------
def rules(horizon: int) -> dict:
    """Return C003-3's decision rule per part, as recorded with each verdict (``horizon``: the largest budget)."""
    return {
        "C003-3a": "at each budget, grid's best val loss minus random search's best, mean over paired seeds; holds "
                   "at >= 0.01 (inconclusive within 2 std of zero); 'holds only when' names the budgets where it "
                   "holds",
        "C003-3b": f"log10 of TPE's over random search's sampler time per trial (search wall time outside "
                   f"training), budget-{horizon} searches, mean over seeds; holds at a ratio >= 2; recorded as the "
                   "ratio's category",
        "C003-3c": f"random search's best val loss minus TPE's best at {horizon} trials, mean over paired seeds; "
                   "holds at >= 0.01 (inconclusive within 2 std of zero)"}


def stat(values) -> tuple:
    """Return ``(mean, standard deviation over seeds)`` of per-seed effects (the std is None for one seed).

    >>> stat([0.1, 0.3])
    (0.2, 0.1414213562373095)
    """
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else None


def described(measures: dict) -> str:
    """Return ``"condition mean (std)"`` of each measure, for the evidence sentence (an empty condition is "all").

    >>> described({"budget 8": (-0.0695, 0.1537), "": (0.005, 0.015)})
    'budget 8 -0.070 (0.154); all 0.005 (0.015)'
    """
    return "; ".join(f"{c or 'all'} {e:.3f} ({n:.3f})" for c, (e, n) in measures.items())


def judge(c: Comparison, framework, *, scope: str, alone: str, threshold: float = 0.01) -> list:
    """Return (and record) the verdicts of C003-3a, b and c in ``framework``, by :func:`rules`.

    a: grid's best minus random search's best at each budget (one condition per
    budget); b: :meth:`Comparison.sampler_cost`'s log-ratio against ``log10 2``,
    recorded with the ratio's category only (``alone``: the samplers-alone
    category) since wall times vary; c: random search's best minus TPE's at the
    horizon. Effects are means over seeds, the noise their standard deviation.
    """
    rule, h, n = rules(c.horizon), c.horizon, len(c.seeds)
    common = dict(seeds=n, scope=scope)
    m = {f"budget {b}": stat([c.best_at(framework, "grid", b, s) - c.best_at(framework, "random", b, s)
                              for s in c.seeds]) for b in c.budgets}
    found = [part_verdicts.judge("C003-3a", framework, m, threshold, rule=rule["C003-3a"], evidence=(
        "grid's best minus random search's best val loss, mean (std) over seeds: " + described(m)), **common)]
    log_ratio = c.sampler_cost(framework)["log_ratio"]
    v = part_verdicts.judge("C003-3b", framework, {"": log_ratio}, math.log10(2), rule=rule["C003-3b"],
                            evidence="", record=False, **common)
    found.append(v)  # the table masks its numbers; the record keeps only the ratio's category
    verdicts.record(dataclasses.replace(v, effect=None, noise=None, evidence=(
        f"TPE / random sampler time per trial in {framework}'s budget-{h} searches: "
        f"{ratio_category(10 ** log_ratio[0])} (samplers alone: {alone})")))
    m = {"": stat([c.best_at(framework, "random", h, s) - c.best_at(framework, "tpe", h, s) for s in c.seeds])}
    found.append(part_verdicts.judge("C003-3c", framework, m, threshold, rule=rule["C003-3c"], evidence=(
        f"random search's best minus TPE's best val loss at {h} trials, mean (std) over seeds: " + described(m)),
        **common))
    return found


def verdict_table(found, c: Comparison) -> pd.DataFrame:
    """Return :func:`lrlab.part_verdicts.table` of ``found`` with C003-3b's wall-time numbers replaced by the
    ratio's category (effect), ``"(wall time)"`` (noise) and ``"2x"`` (threshold)."""
    table = part_verdicts.table(found)
    timed = table.part == "C003-3b"
    table.loc[timed, "effect"] = [ratio_category(10 ** c.sampler_cost(fw)["log_ratio"][0])
                                  for fw in table.framework[timed]]
    table.loc[timed, ["noise (seed std)", "threshold"]] = ["(wall time)", "2x"]
    return table
