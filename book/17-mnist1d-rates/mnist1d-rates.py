# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: mystnb,tags,-all
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
# # Optimizers and schedules on MNIST-1D
#
# **Seed rows covered:** the claim parts about *which* learning rate and schedule to use, re-tested
# on MNIST-1D (`../shared/seed-catalogue.md`): Adam is less sensitive to the learning rate than
# SGD (C002-1a); the best initial learning rate lies between $0.001$ and $0.01$ (C004-2a);
# decaying it by more than 100× by the end of training helps (C004-2b); a cyclical learning rate
# helps training leave local minima (C002-2a).
#
# On digits these parts were tested in chapters 10, 12 and 14, where a small MLP nearly solves
# the data. Here the network is the MNIST-1D MLP 40-100-100-10 of chapter 15 on `train_rows` of
# the generator's training rows, the regime of chapter 16: it fits its training rows long before
# it generalises, and its validation accuracy stays under one half. Every run trains in float64
# in TensorFlow and in PyTorch, each framework judged on its own runs; seed s draws the initial
# weights (the batch order is the same for all), and all the runs of one optimizer — every
# learning rate, schedule and seed — train together in one `fit_many` call. Every verdict is
# recorded with `regime="mnist1d"`.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first initial-weight seed
repeats: int = 3  # seeds per configuration
train_rows: int = 1000  # training rows (as in chapter 16: the MLP over-fits them)
batch_size: int = 25
epochs: int = 12  # epochs of every run: all comparisons are at equal epochs
lrs: str = "0.001,0.003,0.01,0.03,0.1,0.3,1"  # constant rates, and the starts of the decays (half a decade apart)
factors: str = "1,10,100,1000"  # total exponential decay over the run (1: a constant rate)
good_share: float = 0.9  # C002-1a: a rate is good at >= good_share x the best mean val accuracy
cycle_max_lrs: str = "0.3,0.6,1"  # SGD's triangular cycles: peak rates ...
cycle_ratio: float = 10.0  # ... each cycling between peak / cycle_ratio and the peak
cycles: int = 3  # whole cycles per run (each ends at its low rate)

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

import lrlab
from lrlab import part_checks, plots, rate_grid, sensitivity, testbed
from lrlab.data import mnist1d
from lrlab.report import glue

plots.setup()  # the book's figures, whatever the caller's matplotlib settings
P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1), repeats=lrlab.Int(2, 20),
    train_rows=lrlab.Int(50, 3200), batch_size=lrlab.Int(1, "train_rows"), epochs=lrlab.Int(2, 1000),
    lrs=lrlab.FloatList(0, 100, low_open=True, sort=True), factors=lrlab.FloatList(1, 1e6, sort=True),
    good_share=lrlab.Float(0, 1, low_open=True), cycle_max_lrs=lrlab.FloatList(0, 100, low_open=True, sort=True),
    cycle_ratio=lrlab.Float(1, low_open=True), cycles=lrlab.Int(1, 100))
FW, LRS, FACTORS, PEAKS, SEEDS = P.frameworks, P.lrs, P.factors, P.cycle_max_lrs, list(range(seed, seed + repeats))
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)

# %% [markdown]
# The data are chapter 15's MNIST-1D, made locally by its generator: the first `train_rows`
# training rows and the validation rows of `lrlab.data.mnist1d` (the test rows are not touched).

# %% tags=["hide-input"]
data = mnist1d()
train = (data.train[0][:train_rows], data.train[1][:train_rows])
MLP, STEPS = testbed.MODELS["MLP"], epochs * -(-train_rows // batch_size)
SCOPE = (f"MNIST-1D, {train_rows} training / {len(data.val[0])} validation rows; MLP 40-100-100-10, float64; "
         f"batch {batch_size}, {epochs} epochs ({STEPS} updates); {repeats} seeds")
print(SCOPE)

# %% [markdown]
# ## One grid for four questions
#
# Three optimizers with lrlab's defaults, the same in both frameworks: plain SGD, SGD with
# momentum $0.9$, and Adam ($\beta = (0.9, 0.999)$, $\varepsilon = 10^{-8}$). Each runs at the
# constant rates of `lrs`, half a decade apart. Plain SGD and Adam also start at each of these
# rates and decay exponentially per update by a total factor of `factors` over the run (the
# schedule of chapter 14, {py:func}`lrlab.rate_grid.decay_schedule`; factor 1 is the constant
# rate). Plain SGD also runs a triangular cycle for each peak of `cycle_max_lrs`, from the peak
# divided by `cycle_ratio` up to the peak and back, `cycles` times (the schedule of chapter 12),
# so that every run ends at its cycle's low rate. All runs last `epochs` epochs: every
# comparison below is at equal epochs.
#
# The runs are judged on their final **validation accuracy**. In this regime the validation
# loss of a model that fits its training rows climbs with its confidence in its mistakes
# (chapter 16), so the validation loss rewards a run that has barely trained; the accuracy
# does not. Where a digits rule read a loss ratio, the rule here reads the same ratio of
# accuracies, with the same threshold.

# %%
PLAN = {"sgd": rate_grid.labels(LRS, FACTORS, SEEDS, peaks=PEAKS, ratio=cycle_ratio),
        "momentum": rate_grid.labels(LRS, [1], SEEDS), "adam": rate_grid.labels(LRS, FACTORS, SEEDS)}
print({opt: f"{len(grid)} runs" for opt, grid in PLAN.items()})

# %%
runs = {(fw, opt): rate_grid.train(backend, MLP, train, data.val, optimizer=opt, grid=grid, epochs=epochs,
                                   batch_size=batch_size, cycles=cycles)
        for fw, backend in backends.items() for opt, grid in PLAN.items()}
table = {fw: pd.concat([runs[fw, opt][1] for opt in PLAN], ignore_index=True) for fw in FW}
if len(FW) == 2:
    keys = ["optimizer", "schedule", "lr", "factor", "seed"]
    pairs = sensitivity.agreement(table, keys, "val_loss", 1e-4)
    print(pairs.attrs["text"] + "; per optimizer:", pairs.groupby("optimizer").agree.sum().to_dict())

# %% [markdown]
# ## C002-1a: is Adam less sensitive to the learning rate than SGD?
#
# "Less sensitive" means, as on digits (chapter 10), a wider band of good learning rates.
# **Rule.** In each framework a rate is *good* for a seed when that seed's final validation
# accuracy at that constant rate is at least `good_share` times the best mean accuracy of any
# optimizer and rate. Each seed's band is the number of its good rates times the grid step,
# half a decade. The effect is Adam's band minus the other optimizer's, per seed; the part holds
# if Adam's is wider by at least $0.25$ decades and out of twice the seeds' standard deviation.
# Plain SGD and SGD with momentum are both baselines: if Adam beats only one, the verdict is
# "holds only when" that one is the baseline.
#
# Two things change from digits, and why. Digits judged the final validation *loss* against
# $1.5$ times the best; here the loss rewards under-training, so the rule reads the accuracy,
# and "good" is a share of the best accuracy. And digits interpolated each band's edges between
# grid points; here a run at the edge of stability (plain SGD at the largest rate) ends
# wherever the last bits of its arithmetic send it, differently on every CPU, so the band counts
# grid points instead, and such a run moves a band only if it crosses the line.

# %%
def constant(fw):
    """The constant-rate runs of every optimizer (factor 1) in framework fw."""
    t = table[fw]
    return t[(t.schedule == "decay") & (t.factor == 1)]


BAND_GAIN, GOOD, found = 0.25, {}, []  # decades
for fw in FW:
    GOOD[fw] = good_share * float(constant(fw).groupby(["optimizer", "lr"]).val_accuracy.mean().max())
    bands, wider = rate_grid.adam_band_gain(constant(fw), GOOD[fw], {"sgd": "against plain SGD",
                                                                     "momentum": "against SGD with momentum"})
    print(f"{fw}: good = val accuracy >= {GOOD[fw]:.4f}; band of good rates per seed (decades)\n{bands.to_string()}")
    found.append(part_checks.verdict(
        "C002-1a", fw, wider, threshold=BAND_GAIN, unit="decades", seeds=repeats, scope=SCOPE, regime="mnist1d",
        rule=f"Adam's band of good LRs (val accuracy >= {good_share:g} x best, per seed) wider by >= {BAND_GAIN} "
             "decades"))
print(part_checks.table(found).to_string(index=False))

# %% mystnb={"figure": {"caption": "Final validation accuracy against the constant learning rate for plain SGD, SGD with momentum and Adam (mean of `repeats` seeds; shaded: lowest to highest seed), in each framework; a rate is good at or above the dotted line, `good_share` of the best mean.", "name": "fig-17-bands"}} tags=["hide-input"]
fig, axes = plt.subplots(1, len(FW), figsize=(5 * len(FW), 3.4), sharey=True, squeeze=False, layout="constrained")
for ax, fw in zip(axes[0], FW):
    rate_grid.plot_accuracy(ax, constant(fw), threshold=GOOD[fw], title=fw)
plt.show()

# %% [markdown]
# {numref}`fig-17-bands` shows the three curves with the shape they had on digits — too small a
# rate has barely trained after `epochs` epochs, too large a one breaks the network — shifted:
# Adam's good rates lie lowest, plain SGD's highest, momentum's in between (momentum $0.9$
# multiplies SGD's step by up to ten). Each curve's plateau is narrow, and the seeds move its
# edges by a grid step: with `repeats` seeds and bands that are whole numbers of half decades,
# the seed noise of a difference of bands is large, or zero when every seed moves the same way
# — and then the word rests on the few runs that sit at the line.
#
# ## C004-2a and C004-2b: where to start, and how far to decay
#
# The grid of starting rates × total decays, for plain SGD and Adam. The rules are those of
# chapter 14 read on accuracy: each effect is computed seed by seed at grid cells chosen on the
# seeds' mean accuracy; an effect within twice its seed standard deviation is *inconclusive*;
# the part is judged per optimizer, and if it holds for one optimizer only, the verdict is
# "holds only when" that optimizer.
#
# * **C004-2a** (start in $[0.001, 0.01]$): the best cell whose start lies in the band against
#   the best cell whose start lies outside it (any decay), effect one minus the band's accuracy
#   over the outside's. The best start "lies in the band" if the band's best is at most $10$ %
#   less accurate (effect at most $0.1$).
# * **C004-2b** (decay by more than 100×): the best cell decaying 100× or more (the grid's 100×
#   and 1000×) against the best cell decaying less (1× or 10×), any start; effect the first's
#   accuracy over the second's, minus one. Decay "helps" if it raises the accuracy by at least
#   $5$ % (effect at least $0.05$).

# %%
found2, chosen, common = [], [], {"seeds": repeats, "scope": SCOPE, "regime": "mnist1d"}
for fw in FW:
    measured = {"C004-2a": {}, "C004-2b": {}}
    for opt in ("sgd", "adam"):
        effects, cells = rate_grid.decay_effects(table[fw].query("schedule == 'decay' and optimizer == @opt"))
        for part, effect in effects.items():
            measured[part][opt] = effect
        chosen.append({"framework": fw, "optimizer": opt, **cells})
    found2.append(part_checks.verdict("C004-2a", fw, measured["C004-2a"], threshold=0.1, comparison="<=", **common,
                                      unit="(1 - ratio)", rule="best val accuracy with start in [0.001, 0.01] at "
                                      "most 10 % below the best outside"))
    found2.append(part_checks.verdict("C004-2b", fw, measured["C004-2b"], threshold=0.05, **common, unit="(ratio - 1)",
                                      rule="best val accuracy decaying >= 100x at least 5 % above the best < 100x"))
print("the cells chosen on the seed means, (start lr, decay factor):")
print(pd.DataFrame(chosen).to_string(index=False))
print(part_checks.table(found2).to_string(index=False))

# %% mystnb={"figure": {"caption": "Final validation error (one minus the accuracy) over starting learning rate and total decay factor, plain SGD and Adam, mean of `repeats` seeds, in the last framework of `frameworks`; red frames the best start for each decay, an error of one marks a run that diverged.", "name": "fig-17-decay"}} tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
for ax, opt in zip(axes, ("sgd", "adam")):
    acc = rate_grid.per_seed(table[FW[-1]].query("schedule == 'decay' and optimizer == @opt"), ["lr", "factor"])
    plots.heatmap(1 - acc.mean(axis=1).unstack("factor"), ax=ax, failed_above=1.0, label="val error",
                  xlabel="total decay factor",
                  ylabel="starting learning rate", title=f"{opt} ({FW[-1]}), mean of {repeats} seeds")
plt.show()

# %% [markdown]
# {numref}`fig-17-decay` reads like chapter 14's grid. For plain SGD the band's starts have not
# trained after `epochs` epochs whatever the decay, and the best cells sit more than a decade
# higher; for Adam the band's best is about as accurate as anything outside it. Decay helps
# where the start is too high to settle — the largest SGD start is usable only decayed — and
# costs where the start is already about right, since it lowers every rate after the first
# updates.
#
# ## C002-2a: does a cyclical rate help training leave local minima?
#
# Nobody knows this network's minima, so "left a local minimum" cannot be observed (chapter 12
# tested it on a loss whose minima are known). What can be measured is the claim's consequence
# on a network: if the cycle's high phases let the run escape where a constant rate stays stuck,
# the cycle should end at a lower training loss, and if what it escapes to is better, at a higher
# validation accuracy. **Rule.** Plain SGD, equal epochs: the best cycle against the best
# constant rate, each chosen on the seeds' mean, read per seed twice — on the final training
# loss (effect one minus the cycle's loss over the constant's) and on the final validation
# accuracy (effect the cycle's accuracy over the constant's, minus one). Each reading holds at
# $5$ % or more (as C004-2b's "helps") and out of twice the seed noise; the part holds if both
# readings do, "holds only when" if one does.

# %%
found3 = []
for fw in FW:
    compared, cells = rate_grid.cycle_effects(table[fw].query("optimizer == 'sgd'"))
    print(f"{fw}: {cells}")
    found3.append(part_checks.verdict(
        "C002-2a", fw, compared, threshold=0.05, unit="(relative)", seeds=repeats, scope=SCOPE, regime="mnist1d",
        rule="best SGD cycle vs best constant LR at equal epochs: training loss >= 5 % lower and val accuracy "
             ">= 5 % higher"))
print(part_checks.table(found3).to_string(index=False))

# %% mystnb={"figure": {"caption": "Plain SGD's cycles (peaks `cycle_max_lrs`) against its constant rates from `lrs` near the best, epoch by epoch: training loss (left, log scale) and validation accuracy (right), mean of `repeats` seeds, in the last framework of `frameworks`.", "name": "fig-17-cycle"}} tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
for ax, column in zip(axes, ("loss", "val_accuracy")):
    curves = rate_grid.mean_curves(runs[FW[-1], "sgd"][0], PLAN["sgd"], column)
    for i, c in enumerate(c for c in curves if c[0] == "cycle" or (c[2] == 1 and 0.1 <= c[1] <= 0.3)):
        label = f"cycle to {c[1]:g}" if c[0] == "cycle" else f"constant {c[1]:g}"
        ax.plot(curves.index + 1, curves[c], color=f"C{i}", ls="-" if c[0] == "cycle" else "--", label=label)
    ax.set(xlabel="epoch", ylabel=column.replace("_", " "), yscale="log" if column == "loss" else "linear")
axes[0].legend(fontsize=7)
plt.show()

# %% tags=["hide-input"]
for part, text in part_checks.words(found + found2 + found3).items():
    glue(f"w_{part}", Markdown(text), display=False)
for v in found + found2 + found3:
    for i, m in enumerate(v.extra["conditions"].values()):
        glue(f"e_{v.part}_{v.framework}_{i}", m["effect"], display=False)
        glue(f"n_{v.part}_{v.framework}_{i}", m["noise"], display=False)
for fw in FW:
    glue(f"good_{fw}", round(GOOD[fw], 3), display=False)
    glue(f"best_{fw}", round(GOOD[fw] / good_share, 3), display=False)

# %% [markdown]
# ## Verdicts: what MNIST-1D changes
#
# **C002-1a**, Adam is less sensitive to the learning rate: {glue:md}`w_C002-1a`. The best mean
# accuracy at a constant rate is {glue:text}`best_torch` in PyTorch ({glue:text}`best_tf` in
# TensorFlow), so a rate is good from {glue:text}`good_torch`. Adam's band minus plain SGD's is
# {glue:text}`e_C002-1a_torch_0` ± {glue:text}`n_C002-1a_torch_0` decades (PyTorch; TensorFlow
# {glue:text}`e_C002-1a_tf_0` ± {glue:text}`n_C002-1a_tf_0`); minus momentum's,
# {glue:text}`e_C002-1a_torch_1` ± {glue:text}`n_C002-1a_torch_1` (TensorFlow
# {glue:text}`e_C002-1a_tf_1` ± {glue:text}`n_C002-1a_tf_1`). On digits (chapter 10) the part
# holds only against plain SGD. Where the two frameworks' words differ here, one run decides it:
# Adam at the grid's smallest rate, first seed, ends one validation row above the line in
# PyTorch and one row below it in TensorFlow (the two frameworks' Adam differ in the last bits —
# Keras rounds $\beta_1$ and $\beta_2$ through float32, chapter 10 — and this run amplifies
# that into one row). Against momentum, Adam's band is not clearly wider in either framework:
# as on digits, the averaging of gradients that Adam shares with momentum seems to matter more
# for the width than Adam's per-weight scaling.
#
# **C004-2a**, the best initial rate lies between $0.001$ and $0.01$: {glue:md}`w_C004-2a`. The
# band's best falls short of the best outside by a share of {glue:text}`e_C004-2a_torch_0` for
# plain SGD (PyTorch, seed spread {glue:text}`n_C004-2a_torch_0`) and {glue:text}`e_C004-2a_torch_1`
# for Adam ({glue:text}`n_C004-2a_torch_1`; TensorFlow {glue:text}`e_C004-2a_tf_0` and
# {glue:text}`e_C004-2a_tf_1`). On digits (chapter 14) the part holds only for Adam: the band
# is Adam's range, not SGD's, on both data sets.
#
# **C004-2b**, decaying by more than 100× helps: {glue:md}`w_C004-2b`. The best cell decaying
# 100× or more against the best decaying less changes the accuracy by a share of
# {glue:text}`e_C004-2b_torch_0` for plain SGD (PyTorch, seed spread
# {glue:text}`n_C004-2b_torch_0`) and {glue:text}`e_C004-2b_torch_1` for Adam
# ({glue:text}`n_C004-2b_torch_1`; TensorFlow {glue:text}`e_C004-2b_tf_0` and
# {glue:text}`e_C004-2b_tf_1`). On digits the part does not hold: there the large decay costs
# clearly; here, where a late low rate might have tamed the over-fitting, it does not help
# either.
#
# **C002-2a**, a cyclical rate helps training leave local minima, read as "the best cycle ends
# better than the best constant rate": {glue:md}`w_C002-2a`. On the training loss the effect is
# {glue:text}`e_C002-2a_torch_0` ± {glue:text}`n_C002-2a_torch_0` (PyTorch; TensorFlow
# {glue:text}`e_C002-2a_tf_0` ± {glue:text}`n_C002-2a_tf_0`), on the validation accuracy
# {glue:text}`e_C002-2a_torch_1` ± {glue:text}`n_C002-2a_torch_1` (TensorFlow
# {glue:text}`e_C002-2a_tf_1` ± {glue:text}`n_C002-2a_tf_1`). {numref}`fig-17-cycle` shows
# where the two readings part. The cycles' training loss climbs with every rise of the rate —
# each climb undoes part of what the descent before it fitted — so they end at a higher training
# loss than the best constant rate: no sign of a run that escapes to lower ground. Their
# validation accuracy peaks at the end of each cycle, at the low rate, and the run ends there,
# above the best constant rate's, whose accuracy jumps from epoch to epoch. That is the benefit
# of ending at a low rate after a high one — a decay's — more than of leaving a minimum. On
# digits the network
# part was "not testable here" (chapter 12 judged the claim on one-weight surfaces, where it
# holds only for minima sharp enough for the peak rate to throw the run out).
#
# **Scope.** MNIST-1D made locally (`lrlab.data.mnist1d`), `train_rows` training rows, the
# validation rows of `lrlab.data.mnist1d`; the MLP 40-100-100-10 in float64; batch
# `batch_size`, `epochs` epochs, `repeats` seeds of the initial weights; lrlab's default
# momentum and Adam hyperparameters; one exponential decay shape, one triangular cycle shape.
# Every comparison is at equal epochs: a longer budget would let small starts and long decays
# catch up. C002-2a is tested through its consequence at the end of training; whether the runs
# left a local minimum cannot be seen on a network whose minima are unknown, so the verdict
# speaks to "ends better", not to "left a minimum".
