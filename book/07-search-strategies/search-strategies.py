# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Grid, random and Bayesian search
#
# **Seed rows covered:** E003-1 (the random-search loop) and C003-3 ("random search finds a
# good combination faster than grid search in large spaces; Bayesian optimisation costs more
# per step but finds better points").
#
# Seed 003 draws hyperparameter search as a loop: choose the ranges, sample a combination,
# train, evaluate, repeat until satisfied, keep the best. It then claims, after Bergstra and
# Bengio {cite:p}`bergstra2012random`, that drawing the combinations at random beats laying
# them on a grid when the space is large, and that Bayesian optimisation — choosing the next
# combination from a model of the results so far — spends more per step to find better points.
#
# The loop is `lrlab.search`, built on Optuna's samplers (`GridSampler`, `RandomSampler`, and
# `TPESampler` for the Bayesian side: a tree-structured Parzen estimator
# {cite:p}`bergstra2011algorithms`). Its objective is any function of the sampled parameters,
# here training the digits MLP in TensorFlow or PyTorch. We first run the loop as the seed draws
# it, with a study stored in SQLite that is interrupted and resumed; then we put the claim to a
# test at equal budgets, with several seeds.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # the first of n_seeds seeds (initial weights, batch order, samplers)
n_seeds: int = 5  # repetitions of the comparison
budgets: str = "8,24"  # trials per search, comma-separated; the largest is the best-so-far horizon
epochs: int = 5  # epochs of every trial
hidden: int = 32  # width of the MLP's hidden layer: 64 -> hidden -> 10
full_framework: str = "torch"  # runs the full comparison; the other requested framework re-evaluates one seed
tpe_startup: int = 8  # random trials before TPE models the results
tpe_batch: int = 4  # trials TPE proposes at a time (trained together)
loop_trials: int = 10  # trials of the E003-1 loop (interrupted at half)

# %%
# %matplotlib inline
import math
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import data, search, training

P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31), n_seeds=lrlab.Int(1, 100),
    budgets=lrlab.IntList(1, sort=True), epochs=lrlab.Int(1, 100), hidden=lrlab.Int(1, 1024),
    full_framework=lrlab.Choice("tf", "torch"), tpe_startup=lrlab.Int(1, lambda p: max(p.budgets)),
    tpe_batch=lrlab.Int(1, lambda p: max(p.budgets)), loop_trials=lrlab.Int(2, 200))
FW, BUDGETS = P.frameworks, P.budgets
started = time.perf_counter()
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)
FULL = full_framework if full_framework in FW else FW[0]
CONFIRM = next((name for name in FW if name != FULL), None)
SEEDS = list(range(seed, seed + n_seeds))
HORIZON = BUDGETS[-1]

digits = data.digits(seed=seed)
SPEC = training.check_mlp((64, hidden, 10), "relu", "softmax")
LOSS = "categorical_crossentropy"
SPACE = {"lr": search.log_uniform(1e-5, 1.0), "batch_size": [16, 32, 64, 128],
         "weight_decay": search.log_uniform(1e-5, 1.0), "beta_1": search.uniform(0.0, 0.99)}
print(f"full comparison in {FULL}" + (f", one seed re-evaluated in {CONFIRM}" if CONFIRM else "")
      + f"; seeds {SEEDS}; budgets {BUDGETS}; {epochs} epochs per trial")

# %% [markdown]
# ## The search space
#
# Four hyperparameters of an AdamW-trained MLP on the digits: the learning rate (log-uniform
# from $10^{-5}$ to 1), the batch size (16, 32, 64 or 128), the decoupled weight decay
# (log-uniform from $10^{-5}$ to 1) and $\beta_1$, Adam's momentum coefficient (uniform from 0
# to 0.99). The objective is the validation loss after `epochs` epochs, from the initial weights
# of the trial's seed. A run that diverges is a failed trial.
#
# Why AdamW rather than SGD with momentum and weight decay: in SGD the two frameworks apply
# weight decay differently once momentum is on (Keras decouples it from the gradient, PyTorch
# adds it to the gradient, where the momentum buffer amplifies it), so that combination would
# not be one experiment in both. AdamW decouples the decay in both, and its $\beta_1$ is the
# momentum.
#
# A trial trains with `fit_many` when several trials are proposed together: the trials of one
# batch that share a batch size are trained as one batched computation (the batch size is
# the one thing all models of a `fit_many` call must share).

# %%
def objective_many(backend, trial_seed):
    """Return an objective for lrlab.search: train a batch of trials (grouped by batch size) and return val losses."""
    def evaluate(points):
        out = [None] * len(points)
        for bs in sorted({p["batch_size"] for p in points}):
            idx = [i for i, p in enumerate(points) if p["batch_size"] == bs]
            configs = [{"lr": points[i]["lr"], "weight_decay": points[i]["weight_decay"],
                        "beta_1": points[i]["beta_1"], "init_seed": trial_seed} for i in idx]
            h = backend.fit_many(SPEC, digits.train, digits.val, optimizer="adamw", loss=LOSS, epochs=epochs,
                                 batch_size=bs, configs=configs, seed=trial_seed)
            for i, row in zip(idx, h.groupby("model").tail(1).itertuples()):
                ok = row.status == "ok"
                out[i] = {"value": row.val_loss if ok else math.nan,
                          "val_accuracy": row.val_accuracy if ok else math.nan}
        return out
    return evaluate


# %% [markdown]
# ## The loop of E003-1, stored, interrupted and resumed
#
# `search.run(objective, space, strategy="random", n_trials=..., storage=...)` is the seed's
# flowchart: the ranges are the space, Optuna's `RandomSampler` samples a combination, the
# objective trains and evaluates it, the loop repeats until the study holds `n_trials` trials,
# and the result keeps every trial and the best. The study lives in an Optuna storage — by
# default a SQLite file under `runs/` of the working directory — so a search can be stopped and
# resumed, or shared by several worker processes pointing at the same file. Here we use a
# temporary folder, stop after half the trials, and call the same search again with the full
# count: only the missing trials are trained. Each framework runs its own study with the same
# sampler seed, so both draw the same combinations.

# %%
def one_at_a_time(backend):
    """Return E003-1's objective: one trial trained on its own, its validation loss."""
    many = objective_many(backend, seed)
    return lambda params: many([params])[0]


loops, calls = {}, {}
with tempfile.TemporaryDirectory() as folder:
    url = f"sqlite:///{folder}/e003-1.sqlite3"
    for name, b in backends.items():
        objective = one_at_a_time(b)
        counted = []
        trial = lambda params, objective=objective, counted=counted: counted.append(1) or objective(params)  # noqa: E731
        half = search.run(trial, SPACE, strategy="random", n_trials=loop_trials // 2, seed=seed, storage=url,
                          study_name=f"e003-1-{name}")
        first_calls = len(counted)
        loops[name] = search.run(trial, SPACE, strategy="random", n_trials=loop_trials, seed=seed, storage=url,
                                 study_name=f"e003-1-{name}")
        calls[name] = (first_calls, len(counted) - first_calls, half.n_trials, loops[name].n_trials)
for name, (first, second, n_half, n_all) in calls.items():
    print(f"{name:>5}: first session trained {first} trials (study holds {n_half}); the resumed session trained "
          f"{second} more (study holds {n_all}, numbered {loops[name].trials.trial.min()}.."
          f"{loops[name].trials.trial.max()})")
t = loops[FW[0]].trials
print(pd.DataFrame({"trial": t.trial, "lr": t.lr.map(lambda v: f"{v:.2g}"), "batch": t.batch_size,
                    "weight decay": t.weight_decay.map(lambda v: f"{v:.2g}"), "beta_1": t.beta_1.map(lambda v: f"{v:.2f}"),
                    **{f"{name} val loss": loops[name].trials.value.map(lambda v: f"{v:.3f}") for name in FW},
                    "best so far": t.best_so_far.map(lambda v: f"{v:.3f}")}).to_string(index=False))
print("best:", {k: (round(v, 4) if isinstance(v, float) else v) for k, v in loops[FW[0]].best_params.items()},
      f"val loss {loops[FW[0]].best_value:.3f}")

# %% [markdown]
# A resumed random search does not replay its first session's draws: the sampler of a resumed
# session is seeded from the seed and the number of trials already stored, so it never repeats
# them (and is therefore not the sequence an uninterrupted search would have drawn).
#
# ## C003-3: grid, random and TPE at equal budgets
#
# Each strategy gets the same number of trials, from every budget in `budgets`, and the whole
# comparison is repeated for `n_seeds` seeds (each seed changes the initial weights, the batch
# order and the samplers' draws).
#
# * **grid**: a budget of 8 trials over four hyperparameters allows 2 × 2 × 2 × 1 values, a
#   budget of 24 allows 3 × 2 × 2 × 2 (`search.grid_counts`: one more value to each
#   hyperparameter in turn, the learning rate first, while the product fits the budget). Each
#   range is cut into that many equal cells (on a log scale for the learning rate and weight
#   decay) and the middle of each cell is the grid value, so no grid value sits on a bound.
#   Optuna's `GridSampler` visits the points in a seeded random order.
# * **random**: `RandomSampler`, every trial proposed at once.
# * **TPE**: `TPESampler` with `tpe_startup` random trials, then batches of `tpe_batch` trials
#   proposed together (Optuna's "constant liar" keeps the trials of a batch apart), each batch
#   trained at once. TPE's random start draws exactly what the random sampler with the same seed
#   draws, so the two strategies differ only in what TPE does after its start.
#
# For each strategy, budget and seed we keep the best validation loss reached, and for the
# largest budget the best-so-far curve over the trials.

# %%
for budget in BUDGETS:
    counts = search.grid_counts(SPACE, budget)
    values = search.grid_values(SPACE, counts)
    print(f"grid for a budget of {budget}: {' x '.join(str(c) for c in counts.values())} = "
          f"{math.prod(counts.values())} points; " + "; ".join(
              f"{k} " + ", ".join(f"{v:.2g}" if isinstance(v, float) else str(v) for v in vs) for k, vs in values.items()))

# %%
def run_strategy(backend, strategy, budget, trial_seed):
    """Return the SearchResult of one strategy at one budget for one seed (an in-memory study)."""
    batch = tpe_batch if strategy == "tpe" else budget
    return search.run_batched(objective_many(backend, trial_seed), SPACE, strategy=strategy, n_trials=budget,
                              batch=batch, seed=trial_seed, n_startup_trials=tpe_startup, storage=None,
                              study_name=f"{strategy}-{budget}-seed{trial_seed}")


STRATEGIES = ("grid", "random", "tpe")
results = {}
tick = time.perf_counter()
for trial_seed in SEEDS:
    for strategy in STRATEGIES:
        # random and TPE at a smaller budget are the first trials of the larger search (same seed, same draws)
        runs = BUDGETS if strategy == "grid" else [HORIZON]
        for budget in runs:
            results[strategy, budget, trial_seed] = run_strategy(backends[FULL], strategy, budget, trial_seed)
print(f"{len(results)} searches, {sum(r.n_trials for r in results.values())} trials in {FULL}; "
      f"time: {time.perf_counter() - tick:.1f} s")


def best_at(strategy, budget, trial_seed):
    """Return the best validation loss a strategy reached within `budget` trials for one seed."""
    if strategy == "grid":
        return results["grid", budget, trial_seed].best_value
    return float(results[strategy, HORIZON, trial_seed].trials.best_so_far.iloc[budget - 1])


rows = []
for strategy in STRATEGIES:
    for budget in BUDGETS:
        values = np.array([best_at(strategy, budget, s) for s in SEEDS])
        rows.append({"strategy": strategy, "budget": budget, "median best val loss": np.median(values),
                     "min": values.min(), "max": values.max(),
                     "seeds where best of the three": 0})
board = pd.DataFrame(rows)
for budget in BUDGETS:
    per_seed = np.array([[best_at(st, budget, s) for s in SEEDS] for st in STRATEGIES])
    wins = np.bincount(per_seed.argmin(axis=0), minlength=len(STRATEGIES))
    for i, strategy in enumerate(STRATEGIES):
        board.loc[(board.strategy == strategy) & (board.budget == budget), "seeds where best of the three"] = wins[i]
print(board.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
trials_axis = np.arange(1, HORIZON + 1)
for i, strategy in enumerate(STRATEGIES):
    curves = np.array([results[strategy, HORIZON, s].trials.best_so_far.to_numpy()[:HORIZON] for s in SEEDS])
    label = f"{strategy}: median over seeds" + (" (grid order)" if strategy == "grid" else "")
    axes[0].plot(trials_axis, np.nanmedian(curves, axis=0), color=f"C{i}", label=label)
    axes[0].fill_between(trials_axis, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), color=f"C{i}",
                         alpha=0.15, step=None)
    for j, budget in enumerate(BUDGETS):
        values = [best_at(strategy, budget, s) for s in SEEDS]
        axes[1].scatter(np.full(len(values), j * 4 + i) + np.linspace(-0.2, 0.2, len(values)), values,
                        color=f"C{i}", s=14, label=strategy if j == 0 else None)
axes[0].set(xlabel="trials", ylabel="best validation loss so far", ylim=(0.1, 0.6),
            title=f"best so far ({n_seeds} seeds: median, band = min to max)")
axes[1].set(xticks=[j * 4 + 1 for j in range(len(BUDGETS))], xticklabels=[f"budget {b}" for b in BUDGETS],
            ylabel="best validation loss", ylim=(0.1, 0.6), title="each seed's best at each budget")
for ax in axes:
    ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# At a budget of 24 random search reaches the lowest median (0.136) and the grid the highest
# (0.264), worse than the grid of 8 trials (0.163). At 8 trials the grid wins three seeds of
# five; its two learning rates, $1.8\cdot10^{-4}$ and 0.056, include one at the upper edge of the
# good band, while the 24-point grid's three rates ($6.8\cdot10^{-5}$, $3.2\cdot10^{-3}$, 0.15)
# all miss it. A finer grid was a worse grid: what a grid finds depends on where its few values
# happen to fall. Random search at 8 trials is a lottery too (one seed's eight draws found no
# good rate at all, 0.50). TPE's first eight trials are its random start, identical to random
# search's, so the two differ only from trial 9 on; by trial 24 TPE's median best (0.143) is
# not lower than random search's, but its worst seed is (0.150 against 0.172).

# %% [markdown]
# ## Why the grid loses here
#
# The learning rate matters far more than the other three hyperparameters, and a grid spends
# its budget on every combination of the values it chose: at a budget of 24 it tries only three
# learning rates, at 8 only two, and whether one of them lands in the good band is luck of the
# grid's placement. Random search tries a new learning rate in every trial. The left panel shows
# every trial of every seed against its learning rate: the objective is close to a function of
# the learning rate alone, with the other three hyperparameters adding a spread around it.

# %%
pooled = pd.concat([r.trials.assign(strategy=k[0], budget=k[1]) for k, r in results.items()], ignore_index=True)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for i, strategy in enumerate(STRATEGIES):
    part = pooled[(pooled.strategy == strategy) & (pooled.budget == HORIZON)]
    axes[0].scatter(part.lr, part.value, s=10, color=f"C{i}", alpha=0.7, label=strategy)
    axes[1].hist(np.log10(part.lr), bins=np.linspace(-5, 0, 26), color=f"C{i}", alpha=0.5, label=strategy)
axes[0].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="validation loss",
            title=f"every trial of the budget-{HORIZON} searches")
axes[1].set(xlabel="log10 learning rate", ylabel="trials", title="where each strategy spent its trials")
for ax in axes:
    ax.legend(fontsize=7)
plt.show()
distinct = {strategy: np.median([results[strategy, HORIZON, s].trials.lr.nunique() for s in SEEDS])
            for strategy in STRATEGIES}
good = pooled.value <= 1.25 * pooled.value.min()
print(f"distinct learning rates per budget-{HORIZON} search (median over seeds): "
      + ", ".join(f"{k} {v:g}" for k, v in distinct.items()))
print(f"trials within 25 % of the best loss ever seen ({pooled.value.min():.3f}): learning rates "
      f"{pooled.lr[good].min():.2g} to {pooled.lr[good].max():.2g}; share of budget-{HORIZON} trials there: "
      + ", ".join(f"{st} {100 * good[(pooled.strategy == st) & (pooled.budget == HORIZON)].mean():.0f} %"
                  for st in STRATEGIES))

# %% [markdown]
# ## What each search's choice is worth on the test set
#
# The best trial of each budget-24 search is retrained with `fit` (same seed, same weights and
# batches) and scored once on the test set.

# %%
def test_accuracy(backend, params, trial_seed):
    """Return the test accuracy of one configuration retrained with fit."""
    m = backend.mlp(SPEC.sizes, "relu", "softmax", seed=trial_seed)
    backend.fit(m, digits.train, optimizer=backend.optimizer("adamw", params["lr"], weight_decay=params["weight_decay"],
                                                            beta_1=params["beta_1"]),
                loss=LOSS, epochs=epochs, batch_size=params["batch_size"], seed=trial_seed)
    return backend.evaluate(m, digits.test, loss=LOSS)["accuracy"]


test_rows = [{"strategy": st, "seed": s, "test accuracy %": 100 * test_accuracy(backends[FULL],
                                                                               results[st, HORIZON, s].best_params, s)}
             for st in STRATEGIES for s in SEEDS]
tests = pd.DataFrame(test_rows)
print(tests.groupby("strategy", sort=False)["test accuracy %"].agg(["median", "min", "max"])
      .to_string(float_format=lambda v: f"{v:.1f}"))

# %% [markdown]
# The test set ranks the choices the same way: the grid's best configurations score lowest and
# vary most, TPE's score highest and vary least (its worst seed is better than random search's
# worst by more than a point and a half).

# %% [markdown]
# ## The same trials in the other framework
#
# The full comparison ran in one framework. If both are requested, the other one re-trains
# every configuration the first seed's searches tried — the grids, the random and the TPE
# trials — and compares the validation losses trial by trial. If the values agree closely,
# every decision a sampler made on them (which trial is best, which TPE proposes next) would be
# the same, and so would the comparison.

# %%
if CONFIRM is not None:
    first_seed = SEEDS[0]
    mine = {k: r for k, r in results.items() if k[2] == first_seed}
    points = [(k, i, dict(r.trials.iloc[i][list(SPACE)])) for k, r in mine.items() for i in range(r.n_trials)]
    redone = objective_many(backends[CONFIRM], first_seed)([p for _, _, p in points])
    gaps, lrs = [], []
    for (k, i, params), outcome in zip(points, redone):
        gaps.append(abs(outcome["value"] - mine[k].trials.value.iloc[i]))
        lrs.append(params["lr"])
    gaps, lrs = np.array(gaps), np.array(lrs)
    offset, same_best = 0, []
    for k, r in mine.items():
        other = np.array([o["value"] for o in redone[offset:offset + r.n_trials]])
        same_best.append(int(np.nanargmin(other)) == int(np.nanargmin(r.trials.value.to_numpy())))
        offset += r.n_trials
    large = gaps > 1e-3
    print(f"{CONFIRM} re-trained {len(points)} configurations of seed {first_seed}: |val loss {CONFIRM} - val loss "
          f"{FULL}|: {int((gaps < 1e-4).sum())} of {len(gaps)} agree within 1e-4; "
          + (f"the {int(large.sum())} that differ by more than 1e-3 all have lr >= {lrs[large].min():.2g}"
             if large.any() else "none differs by more than 1e-3")
          + f". Every search picks the same best trial in both: {all(same_best)}")
else:
    print("one framework requested: no re-evaluation")

# %% [markdown]
# ## What a step costs
#
# The claim's second half says Bayesian optimisation costs more per step. Here "more" is
# measured in the sampler's own time per proposed trial, outside training (in-memory studies;
# wall-clock time varies from run to run, so the numbers below are masked in the book's tests
# and play no part in the verdict).

# %%
def sampler_time(strategy):
    """Return the seconds per trial a search spends outside the objective (an objective that trains nothing)."""
    tick = time.perf_counter()
    search.run_batched(lambda points: [1.0 for _ in points], SPACE, strategy=strategy, n_trials=HORIZON,
                       batch=tpe_batch if strategy == "tpe" else HORIZON, seed=seed, n_startup_trials=tpe_startup,
                       storage=None)
    return (time.perf_counter() - tick) / HORIZON


for strategy in STRATEGIES:
    print(f"{strategy:>6} sampler, per trial: time: {1000 * sampler_time(strategy):.1f} ms")

# %% [markdown]
# TPE's sampler costs more per proposed trial than random sampling — milliseconds, against the
# tenths of a second each trial spends training even in this small problem. "Costs more per
# step" is true and, for any objective that trains a network, negligible.

# %% [markdown]
# ## Verdict on C003-3
#
# The claim has two parts, each judged on the median over seeds of the best validation loss:
# (1) random search beats grid search at every budget, and (2) TPE beats random search at the
# largest budget. **holds** if both parts hold, **holds with caveats** if one does or part (1)
# holds at some budgets only, **does not hold** if neither does.

# %%
medians = board.set_index(["strategy", "budget"])["median best val loss"]
random_beats_grid = {b: bool(medians["random", b] < medians["grid", b]) for b in BUDGETS}
tpe_beats_random = bool(medians["tpe", HORIZON] < medians["random", HORIZON])
if all(random_beats_grid.values()) and tpe_beats_random:
    verdict = "holds"
elif any(random_beats_grid.values()) or tpe_beats_random:
    verdict = "holds with caveats"
else:
    verdict = "does not hold"
catch_up = []
for s in SEEDS:
    target = best_at("grid", HORIZON, s)
    curve = results["random", HORIZON, s].trials.best_so_far.to_numpy()
    hits = np.flatnonzero(curve <= target)
    catch_up.append(int(hits[0]) + 1 if hits.size else None)
reached = [c for c in catch_up if c is not None]
evidence = (f"digits MLP, AdamW over lr x batch size x weight decay x beta_1, {epochs} epochs a trial, "
            f"{n_seeds} seeds in {FULL}: median best val loss "
            + "; ".join(f"budget {b}: grid {medians['grid', b]:.3f}, random {medians['random', b]:.3f}, "
                        f"TPE {medians['tpe', b]:.3f}" for b in BUDGETS)
            + f"; random matched the {HORIZON}-trial grid's best within {int(np.median(reached)) if reached else 'n/a'} "
              f"trials (median; in {len(reached)} of {n_seeds} seeds)")
print(f"C003-3: {verdict} — {evidence}")
lrlab.record("claim:C003-3", {"verdict": verdict, "evidence": evidence})
lrlab.record("c003_3_board", board.round(4))
print(f"time: {time.perf_counter() - started:.1f} s")

# %% [markdown]
# Random search beats grid search where the claim says it should: at 24 trials in a
# four-dimensional space in which one hyperparameter matters most, the grid can afford three
# learning rates and random search tries twenty-four. At 8 trials the grid's luck of placement
# beat it in three seeds of five — and the same luck made the 24-point grid worse than the
# 8-point one, which is the deeper argument against grids. TPE did not find better points than
# random search at this budget by the median, but it spent more than twice as many trials in
# the good band and its worst seed was better than random search's: with sixteen guided trials,
# Bayesian optimisation bought reliability rather than a better best. The claim holds with these
# caveats, in a small problem with five seeds; more seeds and larger budgets would sharpen the
# TPE comparison, which is what `n_seeds` and `budgets` are for.

