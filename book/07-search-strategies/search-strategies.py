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
# test at equal budgets, with several seeds, in each framework.
#
# ## The claim's parts and their decision rules
#
# Fixed before any number. A search's result is the best validation loss (categorical
# cross-entropy, nats) among its trials; seeds pair the strategies (the same seed gives the same
# initial weights, batch order and sampler seed). As everywhere ({py:mod}`lrlab.verdicts`), an
# effect within twice its noise of zero is *inconclusive*, and the table says whether the word
# survives the threshold moved by ±50 %.
#
# * **C003-3a** — *in a large space random search finds a good combination sooner than grid
#   search*: at each budget in `budgets`, effect = grid's best minus random search's best, per
#   seed, mean over `n_seeds` seeds (noise: their standard deviation); it holds at a budget if the
#   effect is at least $0.01$; over the budgets, *holds only when* names those where it holds.
# * **C003-3b** — *TPE costs more per trial*: the sampler's own time per trial — the wall time a
#   search spends outside its objective (proposing, modelling, recording), divided by its trials
#   — of TPE over random search, in each framework's own searches at the largest budget, per
#   seed. The effect is $\log_{10}$ of that ratio, mean over the seeds (noise: the standard
#   deviation of the per-seed log-ratios); it holds at a ratio of at least $2$ (effect
#   $\ge \log_{10} 2$), and the threshold moved by ±50 % means ratios of $\sqrt 2$ and
#   $2\sqrt 2$. A check without any framework times the samplers alone, both proposing batches of
#   `tpe_batch` trials to an objective that trains nothing (median of `timing_repeats` timings,
#   the first dropped as a warm-up). Wall times vary from run to run and machine to machine: the
#   page prints them only as `time:` lines, which the book's tests mask, and the ratio only as its
#   category — below $\sqrt 2$, $\sqrt 2$ to $2$, $2$ to $2\sqrt 2$, $2\sqrt 2$ or more — which is
#   also all the recorded verdict keeps of it.
# * **C003-3c** — *TPE finds better points than random search at equal budget*: at the largest
#   budget, effect = random search's best minus TPE's best, per seed; it holds at $0.01$ or more.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # the first of n_seeds seeds (initial weights, batch order, samplers)
n_seeds: int = 5  # repetitions of the comparison
budgets: str = "8,24"  # trials per search, comma-separated; the largest is the best-so-far horizon
epochs: int = 5  # epochs of every trial
hidden: int = 32  # width of the MLP's hidden layer: 64 -> hidden -> 10
tpe_startup: int = 8  # random trials before TPE models the results
tpe_batch: int = 4  # trials TPE proposes at a time (trained together)
loop_trials: int = 10  # trials of the E003-1 loop (interrupted at half)
timing_repeats: int = 7  # timings of each sampler's own overhead (the first is a warm-up and is dropped)

# %% tags=["hide-input"]
# %matplotlib inline
import dataclasses
import math
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import data, part_verdicts, plots, report, search, training, verdicts
from lrlab.report import glue

plots.setup()  # the book's figures, whatever the caller's matplotlib settings
P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31), n_seeds=lrlab.Int(1, 100),
    budgets=lrlab.IntList(1, sort=True), epochs=lrlab.Int(1, 100), hidden=lrlab.Int(1, 1024),
    tpe_startup=lrlab.Int(1, lambda p: max(p.budgets)), tpe_batch=lrlab.Int(1, lambda p: max(p.budgets)),
    loop_trials=lrlab.Int(2, 200), timing_repeats=lrlab.Int(2, 100))
FW, BUDGETS = P.frameworks, P.budgets
started = time.perf_counter()
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)
SHOW = FW[-1]  # the framework whose searches the figures and the test-set table show
SEEDS = list(range(seed, seed + n_seeds))
HORIZON = BUDGETS[-1]

digits = data.digits(seed=seed)
SPEC = training.check_mlp((64, hidden, 10), "relu", "softmax")
LOSS = "categorical_crossentropy"
SPACE = {"lr": search.log_uniform(1e-5, 1.0), "batch_size": [16, 32, 64, 128],
         "weight_decay": search.log_uniform(1e-5, 1.0), "beta_1": search.uniform(0.0, 0.99)}
SCOPE = (f"digits (1077 training rows), 64-{hidden}-10 ReLU MLP, AdamW over lr x batch size x weight decay x "
         f"beta_1, {epochs} epochs a trial, budgets {BUDGETS}")
print(f"comparison in {', '.join(FW)}; seeds {SEEDS}; budgets {BUDGETS}; {epochs} epochs per trial")

# %% [markdown]
# ## The search space
#
# Four hyperparameters of an AdamW-trained MLP on the digits: the learning rate (log-uniform
# from $10^{-5}$ to 1), the batch size (16, 32, 64 or 128), the decoupled weight decay
# (log-uniform from $10^{-5}$ to 1) and $\beta_1$, Adam's momentum coefficient (uniform from `0`
# to `0.99`). The objective is the validation loss after `epochs` epochs, from the initial weights
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
def objective_many(name, trial_seed):
    """Return an objective for lrlab.search: train a batch of trials (grouped by batch size) and return val losses."""
    def evaluate(points):
        out = [None] * len(points)
        for bs in sorted({p["batch_size"] for p in points}):
            idx = [i for i, p in enumerate(points) if p["batch_size"] == bs]
            configs = [{k: points[i][k] for k in ("lr", "weight_decay", "beta_1")} | {"init_seed": trial_seed}
                       for i in idx]
            if name == "tf":  # pad to tpe_batch or HORIZON models: few graph shapes, each traced once
                configs += configs[-1:] * ((tpe_batch if len(idx) <= tpe_batch else max(HORIZON, len(idx))) - len(idx))
            h = backends[name].fit_many(SPEC, digits.train, digits.val, optimizer="adamw", loss=LOSS, epochs=epochs,
                                        batch_size=bs, configs=configs, seed=trial_seed)
            for i, row in zip(idx, h.groupby("model").tail(1).sort_values("model").itertuples()):
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
def one_at_a_time(name):
    """Return E003-1's objective: one trial trained on its own, its validation loss."""
    many = objective_many(name, seed)
    return lambda params: many([params])[0]


loops, calls = {}, {}
with tempfile.TemporaryDirectory() as folder:
    url = f"sqlite:///{folder}/e003-1.sqlite3"
    for name in backends:
        objective = one_at_a_time(name)
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
                    "weight decay": t.weight_decay.map(lambda v: f"{v:.2g}"),
                    "beta_1": t.beta_1.map(lambda v: f"{v:.2f}"),
                    **{f"{name} val loss": loops[name].trials.value.map(lambda v: f"{v:.3f}") for name in FW},
                    "best so far": t.best_so_far.map(lambda v: f"{v:.3f}")}).to_string(index=False))
print("best:", {k: (round(v, 4) if isinstance(v, float) else v) for k, v in loops[FW[0]].best_params.items()},
      f"val loss {loops[FW[0]].best_value:.3f}")
lrlab.record("example:E003-1", {"quantity": f"best val loss of the {loop_trials}-trial random search, interrupted "
                                "and resumed", **{name: round(loops[name].best_value, 3) for name in FW}, "seed": seed})

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
    shown = {k: ", ".join(f"{v:.2g}" if isinstance(v, float) else str(v) for v in vs) for k, vs in values.items()}
    print(f"grid for a budget of {budget}: {' x '.join(str(c) for c in counts.values())} = "
          f"{math.prod(counts.values())} points; " + "; ".join(f"{k} {v}" for k, v in shown.items()))

# %%
def run_strategy(name, strategy, budget, trial_seed):
    """Return the SearchResult of one strategy at one budget for one seed, and (seconds outside, inside) training."""
    evaluate, inside = objective_many(name, trial_seed), [0.0]

    def timed(points):
        tick = time.perf_counter()
        out = evaluate(points)
        inside[0] += time.perf_counter() - tick
        return out
    tick = time.perf_counter()
    r = search.run_batched(timed, SPACE, strategy=strategy, n_trials=budget, seed=trial_seed,
                           batch=tpe_batch if strategy == "tpe" else budget, n_startup_trials=tpe_startup,
                           storage=None, study_name=f"{strategy}-{budget}-seed{trial_seed}")
    return r, (time.perf_counter() - tick - inside[0], inside[0])


STRATEGIES = ("grid", "random", "tpe")
results, seconds = {}, {}
for name in backends:
    for trial_seed in SEEDS:
        for strategy in STRATEGIES:
            # random and TPE at a smaller budget are the first trials of the larger search (same seed, same draws)
            for budget in (BUDGETS if strategy == "grid" else [HORIZON]):
                key = name, strategy, budget, trial_seed
                results[key], seconds[key] = run_strategy(name, strategy, budget, trial_seed)
print(f"{len(results)} searches, {sum(r.n_trials for r in results.values())} trials; "
      f"time: {sum(sum(v) for v in seconds.values()):.1f} s")


def best_at(name, strategy, budget, trial_seed):
    """Return the best validation loss a strategy reached within `budget` trials for one seed."""
    if strategy == "grid":
        return results[name, "grid", budget, trial_seed].best_value
    return float(results[name, strategy, HORIZON, trial_seed].trials.best_so_far.iloc[budget - 1])


rows = []
for name in FW:
    for budget in BUDGETS:
        per_seed = np.array([[best_at(name, st, budget, s) for s in SEEDS] for st in STRATEGIES])
        wins = np.bincount(per_seed.round(6).argmin(axis=0), minlength=len(STRATEGIES))  # a tie goes to the first
        rows += [{"framework": name, "strategy": st, "budget": budget, "median best val loss": np.median(v),
                  "min": v.min(), "max": v.max(), "seeds where best of the three": wins[i]}
                 for i, (st, v) in enumerate(zip(STRATEGIES, per_seed))]
board = pd.DataFrame(rows)
print(board.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
trials_axis = np.arange(1, HORIZON + 1)
for i, strategy in enumerate(STRATEGIES):
    curves = np.array([results[SHOW, strategy, HORIZON, s].trials.best_so_far.to_numpy()[:HORIZON] for s in SEEDS])
    label = f"{strategy}: median over seeds" + (" (grid order)" if strategy == "grid" else "")
    axes[0].plot(trials_axis, np.nanmedian(curves, axis=0), color=f"C{i}", label=label)
    axes[0].fill_between(trials_axis, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), color=f"C{i}",
                         alpha=0.15, step=None)
    for j, budget in enumerate(BUDGETS):
        values = [best_at(SHOW, strategy, budget, s) for s in SEEDS]
        axes[1].scatter(np.full(len(values), j * 4 + i) + np.linspace(-0.2, 0.2, len(values)), values,
                        color=f"C{i}", s=14, label=strategy if j == 0 else None)
axes[0].set(xlabel="trials", ylabel="best validation loss so far", ylim=(0.1, 0.6),
            title=f"best so far ({SHOW}, {n_seeds} seeds: median, band = min to max)")
axes[1].set(xticks=[j * 4 + 1 for j in range(len(BUDGETS))], xticklabels=[f"budget {b}" for b in BUDGETS],
            ylabel="best validation loss", ylim=(0.1, 0.6), title="each seed's best at each budget")
for ax in axes:
    ax.legend(fontsize=7)
plt.show()

# %%
for (fw, st, b), row in board.set_index(["framework", "strategy", "budget"]).iterrows():
    for column, key in (("median best val loss", "median"), ("max", "worst")):
        glue(f"c003_3_{fw}_{st}_{b}_{key}", round(float(row[column]), 3), display=False)

# %% [markdown]
# In PyTorch (the figure; TensorFlow's rows tell the same story), at a budget of 24 random search
# reaches a median best of {glue:text}`c003_3_torch_random_24_median` and the grid
# {glue:text}`c003_3_torch_grid_24_median`, worse than the grid of 8 trials
# ({glue:text}`c003_3_torch_grid_8_median`). The grids' learning rates (printed above) decide it:
# the 8-point grid's two rates include one at the upper edge of the good band, while the 24-point
# grid's three all miss it. A finer grid was a worse grid: what a grid finds depends on where its
# few values happen to fall. Random search at 8 trials is a lottery too: its worst seed's eight
# draws reached only {glue:text}`c003_3_torch_random_8_worst`. TPE's first eight trials are its
# random start, identical to random search's, so the two differ only from trial 9 on; by trial
# 24 TPE's median best is {glue:text}`c003_3_torch_tpe_24_median` against random search's
# {glue:text}`c003_3_torch_random_24_median`, and its worst seed
# {glue:text}`c003_3_torch_tpe_24_worst` against {glue:text}`c003_3_torch_random_24_worst`.

# %% [markdown]
# ## Why the grid loses here
#
# The learning rate matters far more than the other three hyperparameters, and a grid spends
# its budget on every combination of the values it chose: at a budget of 24 it tries only three
# learning rates, at 8 only two, and whether one of them lands in the good band is luck of the
# grid's placement. Random search tries a new learning rate in every trial. The left panel shows
# every trial of every seed against its learning rate: the objective is close to a function of
# the learning rate alone, with the other three hyperparameters adding a spread around it.

# %% tags=["hide-input"]
pooled = pd.concat([r.trials.assign(strategy=k[1], budget=k[2]) for k, r in results.items() if k[0] == SHOW],
                   ignore_index=True)
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
distinct = {strategy: np.median([results[SHOW, strategy, HORIZON, s].trials.lr.nunique() for s in SEEDS])
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


test_rows = [{"strategy": st, "seed": s, "test accuracy %": 100 * test_accuracy(
    backends[SHOW], results[SHOW, st, HORIZON, s].best_params, s)} for st in STRATEGIES for s in SEEDS]
tests = pd.DataFrame(test_rows)
print(tests.groupby("strategy", sort=False)["test accuracy %"].agg(["median", "min", "max"])
      .to_string(float_format=lambda v: f"{v:.1f}"))

# %% [markdown]
# On the test set the grid's chosen configurations score lowest and vary most; random search's
# and TPE's are close to each other, as their validation losses were.


# %% [markdown]
# ## The same trials in both frameworks
#
# Each framework ran the whole comparison from its own trainings. The grid and random searches
# of a seed propose the same configurations in both, since their samplers never look at the
# losses, so their trials can be compared one by one; TPE's proposals after its random start
# depend on the losses, so its searches stay the same only as long as the losses rank the trials
# the same way.

# %%
if len(FW) == 2:
    pairs = [(results[k], results[(FW[1],) + k[1:]]) for k in results if k[0] == FW[0]]
    fixed = [(a.trials.value.to_numpy(), b.trials.value.to_numpy())
             for a, b in pairs if a.trials.lr.equals(b.trials.lr)]
    gaps = np.concatenate([np.abs(np.nan_to_num(a, nan=9.0) - np.nan_to_num(b, nan=9.0)) for a, b in fixed])
    same_best = sum(int(np.nanargmin(a)) == int(np.nanargmin(b)) for a, b in fixed)
    tpe_same = sum(results[FW[0], "tpe", HORIZON, s].trials.lr.equals(results[FW[1], "tpe", HORIZON, s].trials.lr)
                   for s in SEEDS)
    print(f"searches that tried the same configurations in {FW[0]} and {FW[1]}: {len(fixed)} of {len(pairs)} "
          f"(TPE: {tpe_same} of {n_seeds} seeds)")
    print(f"their {len(gaps)} trials: share whose val losses agree within 1e-3: "
          f"{report.share_text(float(np.mean(gaps < 1e-3)))}; the same best trial in both: {same_best} of "
          f"{len(fixed)} searches")
else:
    print("one framework requested: nothing to compare")

# %% [markdown]
# ## What a step costs
#
# The claim's second half says Bayesian optimisation costs more per step. Part C003-3b measures
# it as stated above: first the samplers alone, with an objective that trains nothing (a cheap
# function of the learning rate, so that TPE has something to model), then the time each
# framework's own searches spent outside their trainings.

# %%
def sampler_seconds(strategy):
    """Return the seconds per trial of a search whose objective trains nothing (batches of tpe_batch)."""
    tick = time.perf_counter()
    search.run_batched(lambda points: [(math.log10(p["lr"]) + 2.5) ** 2 for p in points], SPACE, strategy=strategy,
                       n_trials=HORIZON, batch=tpe_batch, seed=seed, n_startup_trials=tpe_startup, storage=None)
    return (time.perf_counter() - tick) / HORIZON


def ratio_category(ratio):
    """Return the category of a TPE / random time ratio: split at the threshold 2 and its ±50 % moves (in log)."""
    cuts = [2**0.5, 2.0, 2**1.5]
    names = ["below 1.41x", "1.41x to 2x", "2x to 2.83x", "2.83x or more"]
    return names[int(np.searchsorted(cuts, ratio, side="right"))]


alone = {st: float(np.median([sampler_seconds(st) for _ in range(timing_repeats)][1:])) for st in ("random", "tpe")}
for st, v in alone.items():
    print(f"{st:>6} sampler alone, per trial: time: {1000 * v:.1f} ms")
ALONE = ratio_category(alone["tpe"] / alone["random"])
print(f"TPE / random, samplers alone: {ALONE}")

# %%
overhead = {}
for name in FW:
    per = {st: np.array([seconds[name, st, HORIZON, s] for s in SEEDS]) / HORIZON for st in ("random", "tpe")}
    log_ratio = np.log10(per["tpe"][:, 0] / per["random"][:, 0])
    overhead[name] = (float(log_ratio.mean()), float(log_ratio.std(ddof=1)) if n_seeds > 1 else None)
    share = float(np.median(per["tpe"][:, 0] / per["tpe"].sum(axis=1)))
    ms = {k: 1000 * np.median(v, axis=0) for k, v in per.items()}  # (sampler, training) per trial
    print(f"{name:>5}, budget-{HORIZON} searches, per trial (median over seeds): sampler random time: "
          f"{ms['random'][0]:.1f} ms, TPE time: {ms['tpe'][0]:.1f} ms; TPE's training time: {ms['tpe'][1]:.0f} ms")
    print(f"{'':>5} TPE / random sampler time: {ratio_category(10 ** overhead[name][0])}; TPE's sampler share of its "
          f"search's wall time: {report.share_text(share)}")

# %% [markdown]
# TPE's sampler costs several times what random sampling costs per proposed trial — the ratio
# falls in the same category in both frameworks' searches and for the samplers alone — but it is
# milliseconds either way (the `time:` lines above), and against the training it serves it is
# small: a minor share of TPE's own search's wall time even in this problem, where a trial
# trains a small MLP for `epochs` epochs.
#
# ## Verdicts
#
# One per part and framework, by the rules stated at the top of the page. C003-3b's effect and
# noise are wall times: the table prints them, the record keeps only the category of the ratio.

# %%
RULES = {
    "C003-3a": "at each budget, grid's best val loss minus random search's best, mean over paired seeds; holds at "
               ">= 0.01 (inconclusive within 2 std of zero); 'holds only when' names the budgets where it holds",
    "C003-3b": f"log10 of TPE's over random search's sampler time per trial (search wall time outside training), "
               f"budget-{HORIZON} searches, mean over seeds; holds at a ratio >= 2; recorded as the ratio's category",
    "C003-3c": f"random search's best val loss minus TPE's best at {HORIZON} trials, mean over paired seeds; holds at "
               ">= 0.01 (inconclusive within 2 std of zero)"}


def stat(values):
    """Return (mean, standard deviation over seeds) of per-seed effects."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else None


def described(measures):
    """Return 'condition mean (std)' for the evidence sentence."""
    return "; ".join(f"{c or 'all'} {e:.3f} ({n:.3f})" for c, (e, n) in measures.items())


# %%
found = []
for name in FW:
    common = dict(seeds=n_seeds, scope=f"{SCOPE}; {n_seeds} seeds")
    m = {f"budget {b}": stat([best_at(name, "grid", b, s) - best_at(name, "random", b, s) for s in SEEDS])
         for b in BUDGETS}
    found.append(part_verdicts.judge("C003-3a", name, m, 0.01, rule=RULES["C003-3a"], evidence=(
        "grid's best minus random search's best val loss, mean (std) over seeds: " + described(m)), **common))
    v = part_verdicts.judge("C003-3b", name, {"": overhead[name]}, math.log10(2), rule=RULES["C003-3b"],
                            evidence="", record=False, **common)
    found.append(v)  # the table masks its numbers; the record keeps only the ratio's category
    verdicts.record(dataclasses.replace(v, effect=None, noise=None, evidence=(
        f"TPE / random sampler time per trial in {name}'s budget-{HORIZON} searches: "
        f"{ratio_category(10 ** overhead[name][0])} (samplers alone: {ALONE})")))
    m = {"": stat([best_at(name, "random", HORIZON, s) - best_at(name, "tpe", HORIZON, s) for s in SEEDS])}
    found.append(part_verdicts.judge("C003-3c", name, m, 0.01, rule=RULES["C003-3c"], evidence=(
        f"random search's best minus TPE's best val loss at {HORIZON} trials, mean (std) over seeds: "
        + described(m)), **common))

# %%
table = part_verdicts.table(found)
timed = table.part == "C003-3b"  # wall times: the ratio's category, never the number
table.loc[timed, "effect"] = [ratio_category(10 ** overhead[fw][0]) for fw in table.framework[timed]]
table.loc[timed, ["noise (seed std)", "threshold"]] = ["(wall time)", "2x"]
print(table.to_string(index=False))

# %%
for name in FW:
    for b in BUDGETS:
        gap = np.array([best_at(name, "grid", b, s) - best_at(name, "random", b, s) for s in SEEDS])
        glue(f"c003_3a_{name}_{b}_random_ahead", int((gap >= 0.01).sum()), display=False)
        glue(f"c003_3a_{name}_{b}_grid_ahead", int((gap <= -0.01).sum()), display=False)
print(f"time: {time.perf_counter() - started:.1f} s")

# %% [markdown]
# ## What the verdicts say
#
# TensorFlow and PyTorch give the same word to every part, each from its own trainings: the two
# frameworks' losses agree trial by trial (above), so their searches make the same decisions.
#
# * **C003-3b holds** in both, robustly: TPE's sampler spends several times what random sampling
#   spends per trial. It is the one half of the claim this page can confirm, and the one the old
#   page measured no number for; its cost is milliseconds, against trainings that take far
#   longer.
# * **C003-3a is inconclusive** in both. At 24 trials random search beat the grid by at least the
#   threshold in {glue:text}`c003_3a_tf_24_random_ahead` of the seeds in TensorFlow and
#   {glue:text}`c003_3a_torch_24_random_ahead` in PyTorch, but one lucky grid keeps the mean
#   within twice the seed spread; at 8 trials the grid was ahead by the threshold in
#   {glue:text}`c003_3a_tf_8_grid_ahead` (TensorFlow) and {glue:text}`c003_3a_torch_8_grid_ahead`
#   (PyTorch) seeds, and random search's unlucky draws make the spread larger than the effect.
#   The argument against grids that the page does show is the one above: the 24-point grid was
#   worse than the 8-point grid, because a grid's few learning rates fall where they fall.
# * **C003-3c is inconclusive** in both: after its random start TPE's median best is not better
#   than random search's ({glue:text}`c003_3_tf_tpe_24_median` against
#   {glue:text}`c003_3_tf_random_24_median` in TensorFlow, {glue:text}`c003_3_torch_tpe_24_median`
#   against {glue:text}`c003_3_torch_random_24_median` in PyTorch), while its worst seed is
#   ({glue:text}`c003_3_tf_tpe_24_worst` against {glue:text}`c003_3_tf_random_24_worst`, and
#   {glue:text}`c003_3_torch_tpe_24_worst` against {glue:text}`c003_3_torch_random_24_worst`).
#   With sixteen guided trials TPE bought reliability rather than a better best, and five seeds
#   cannot tell its mean advantage from noise.
#
# The old page's single "holds with caveats" thus splits into one part that holds and two that
# these runs cannot decide. The scope is narrow — the digits, a 64-32-10 MLP, five epochs a
# trial, budgets of 8 and 24, five seeds — and `n_seeds` and `budgets` are the parameters that
# would sharpen the two open parts.
