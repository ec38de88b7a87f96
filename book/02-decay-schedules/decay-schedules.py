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
# # Decay schedules
#
# **Seed rows covered:** E000-2 (exponential decay with `staircase`), E000-3 (warmup and
# performance-based decay), E002-2 (exponential decay by epochs), E002-3 and E004-3 (step,
# exponential and inverse-time decay), E002-4 (the triangular cyclical learning rate, with
# one-cycle and cosine restarts beside it), E002-5 (Keras's `ReduceLROnPlateau` and
# `LearningRateScheduler`, and their PyTorch counterparts) and the claim C001-1 (the three
# schedule families: fixed-step decay, exponential decay, cosine annealing).
#
# A learning-rate *schedule* gives each {term}`update` $k = 0, 1, 2, \dots$ its own learning
# rate $\eta_k$. The seeds name a dozen of them, mostly as formulas or as TF1 one-liners. Both
# frameworks ship most of them as native objects — Keras as `LearningRateSchedule` classes the
# optimizer evaluates at its step counter, PyTorch as `LRScheduler` objects that rewrite the
# optimizer's learning rate each time they are stepped — and the two families do not count,
# round or clamp the same way.
#
# This chapter defines every schedule once, as numpy math on the update counter
# (`lrlab.schedules`), turns it into the framework's native object, and then *runs the
# optimizers*: for each update we read the learning rate Keras's `SGD` and PyTorch's `SGD`
# actually used and lay it over the numpy curve. Then we train the seed-001 network with each
# family, in both frameworks.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # seeds the synthetic plateau metric and the training runs
updates: int = 60  # updates (or epochs) drawn for each schedule
epochs: int = 30  # training epochs of the seed-001 comparison
batch_size: int = 32  # 800 training rows: 25 updates an epoch
peak_lr: float = 0.01  # the largest LR every family reaches in the training comparison (Adam)
period: int = 10  # C001-1b: updates per cosine period T; each cosine runs for 8 periods

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import data, decay_families, lr_evidence, native_schedules, plateau, plots, schedules, verdicts
from lrlab import schedule_twins as twins
from lrlab.native_schedules import cut_epochs
from lrlab.report import glue
from lrlab.schedule_overlay import UsedRates, native_modules

plots.setup()  # the book's figures, whatever the caller's matplotlib settings
P = lrlab.validate(globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0), updates=lrlab.Int(20, 2000),
                   epochs=lrlab.Int(3, 500), batch_size=lrlab.Int(1, 800), peak_lr=lrlab.Float(0, 1, low_open=True),
                   period=lrlab.Int(2, 1000))
FW = P.frameworks
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)
used = UsedRates(FW)  # draws the figures; keeps the largest |LR used − reference| / peak LR over all of them

# %% [markdown]
# ## How the figures are made
#
# `schedules.make(name, **params)` returns a schedule `s`; `s(k)` is the learning rate **used
# by update k**, computed in float64. `s.to_keras()` gives the Keras object to pass as
# `learning_rate`, `s.to_torch(optimizer)` the PyTorch scheduler to step *after* each
# `optimizer.step()`. Keras evaluates its schedule at the optimizer's iteration counter before
# incrementing it and PyTorch's documented loop steps the scheduler after the update, so in
# both frameworks update $k$ uses $s(k)$ — provided the objects compute the same formula, which
# is what the figures check.
#
# To see the learning rate an update *used*, we do not ask the schedule. We hand each
# framework's `SGD` a one-element weight set to 0 with gradient $-1$; after the update the
# weight equals the learning rate, in float32 (`lrlab.schedule_twins.lrs_used`, drawn by
# {py:class}`lrlab.schedule_overlay.UsedRates`). Circles are
# Keras, crosses PyTorch, the line is numpy. Keras computes its schedules in float32, so it
# sits within float32 rounding (about $10^{-7}$ of the learning rate) of numpy; PyTorch's
# schedulers compute in Python floats and agree to $10^{-12}$ or better.
#
# A schedule counts whatever its caller steps it by. Seeds 002 and 004 count **epochs**;
# seed 000 and Keras count **updates**. lrlab's `fit` takes `schedule_unit="step"` (the
# schedule advances at every update) or `"epoch"` (every update of epoch $e$ uses $s(e)$:
# PyTorch steps its scheduler once per epoch, Keras evaluates the schedule at
# `update // updates_per_epoch`).

# %% [markdown]
# ## Staircase or continuous (E000-2)
#
# *The seed wrote / we run.* The seed wrote TF1 code: a step-counter variable handed to
# `tf.train.exponential_decay`, the rate a tensor read inside a session. We run Keras's
# `keras.optimizers.schedules.ExponentialDecay` handed to the optimizer, which counts its own
# updates, and PyTorch's `StepLR` (or `ExponentialLR`) stepped after every update, both made by
# `lrlab.schedules.make("exponential", ...)`.
#
# Seed 000 decays a learning rate of $0.01$ with TF1's
# `exponential_decay(0.01, global_step, decay_steps=10000, decay_rate=0.96, staircase=True)`,
# which is $\eta_k = 0.01 \cdot 0.96^{\,k / 10000}$ — and its explanation of `staircase` is
# wrong: it describes the staircase as a rate that moves at every update instead of smoothly.
# It is the other way round. Without `staircase` the exponent $k/10000$ is a real number and
# the rate falls a little at **every** update. With `staircase=True` the exponent is
# $\lfloor k / 10000 \rfloor$: the rate is **held** for 10,000 updates and then multiplied by
# $0.96$ at once — a step function that touches the continuous curve at every multiple of
# `decay_steps` and lies above it in between. Keras 3's `ExponentialDecay` and PyTorch's
# `StepLR(10000, 0.96)` (staircase) or `ExponentialLR(0.96 ** (1/10000))` (continuous) are
# the native twins. We sample every 250th update up to 40,000 (Keras's counter is set to each
# sampled $k$; PyTorch steps through all of them).

# %%
e000_2 = {
    "staircase=True": schedules.make("exponential", initial_lr=0.01, decay_steps=10000, decay_rate=0.96,
                                     staircase=True),
    "staircase=False": schedules.make("exponential", initial_lr=0.01, decay_steps=10000, decay_rate=0.96),
}

# %% [markdown]
# {numref}`fig-02-staircase` draws both forms with the rates the frameworks used.

# %% mystnb={"figure": {"caption": "Seed 000's exponential decay with and without `staircase`: the numpy formula (line) and the rate each update used in Keras (circles) and PyTorch (crosses), every 250th update.", "name": "fig-02-staircase"}} tags=["hide-input"]
used.draw(e000_2, np.arange(0, 40001, 250))

# %% [markdown]
# The two forms at a few updates:

# %%
at = np.array([0, 1, 5000, 9999, 10000, 15000, 20000, 30000])
print(pd.DataFrame({"update k": at, **{label: [f"{v:.6f}" for v in s(at)] for label, s in e000_2.items()}})
      .to_string(index=False))

# %% [markdown]
# The two forms agree at $k = 0, 10000, 20000, 30000$. In between, the continuous rate is
# already lower ($0.01 \cdot 0.96^{1/2} = 0.009798$ at update 5,000, where the staircase still says
# $0.01$), and update 9,999 still uses $0.01$ under the staircase: the drop happens at the update whose index is a
# multiple of `decay_steps`, not "at half of it" or at every update.

# %% [markdown]
# ## Decay by epochs: exponential, step, inverse time (E002-2, E002-3, E004-3)
#
# Seed 002 writes exponential decay per epoch, $\eta_e = \eta_0 \cdot r^{\,e / d}$, and step
# decay as "halve the rate every N epochs"; seed 004 lists the same step decay, exponential
# decay, and "fractional" (inverse-time) decay $\eta_e = \eta_0 / (1 + t\,e)$. Keras has
# `ExponentialDecay` (its `staircase=True` form *is* step decay) and `InverseTimeDecay`;
# PyTorch has `ExponentialLR` and `StepLR` and no inverse-time class, so lrlab's twin there is
# PyTorch's own `LambdaLR`. Here $k$ counts epochs.
#
# A fourth panel shows a trap of step decay at chosen epochs. Keras's
# `PiecewiseConstantDecay(boundaries, values)` keeps the **old** value at a boundary
# ($s \le b$), PyTorch's `MultiStepLR(milestones)` switches **at** the milestone. lrlab's
# `multistep` follows PyTorch (epoch 20 already uses the lower rate) and hands Keras boundary
# 19 for milestone 20. {numref}`fig-02-epochs` draws the four.

# %%
e002 = {
    "exponential 0.1·0.5^(e/10)": schedules.make("exponential", initial_lr=0.1, decay_steps=10, decay_rate=0.5),
    "step: halve every 10": schedules.make("step", initial_lr=0.1, step_size=10, gamma=0.5),
    "inverse time 0.1/(1 + 0.2e)": schedules.make("inverse_time", initial_lr=0.1, decay_steps=1, decay_rate=0.2),
    "multistep at 20 and 40": schedules.make("multistep", initial_lr=0.1, milestones=[20, 40], gamma=0.3),
}

# %% mystnb={"figure": {"caption": "Decay by epochs: exponential, step, inverse-time and multistep decay, the numpy formula (line) and the rate each epoch used in Keras (circles) and PyTorch (crosses).", "name": "fig-02-epochs"}} tags=["hide-input"]
used.draw(e002, updates, xlabel="epoch e")

# %% [markdown]
# At the boundary itself, the native classes and lrlab's `multistep`:

# %%
from lrlab.determinism import configure_tensorflow, configure_torch  # noqa: E402

if "tf" in FW:
    keras_native = configure_tensorflow().keras.optimizers.schedules.PiecewiseConstantDecay([20], [0.1, 0.03])
    print("Keras PiecewiseConstantDecay([20], [0.1, 0.03]) at epochs 19, 20, 21:",
          [round(float(keras_native(e)), 6) for e in (19, 20, 21)])
if "torch" in FW:
    torch = configure_torch()
    torch_lrs = lr_evidence.torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[20], gamma=0.3),
                                      22, 0.1)
    print("torch MultiStepLR([20], 0.3) at epochs 19, 20, 21:", [round(float(torch_lrs[e]), 6) for e in (19, 20, 21)])
print("lrlab multistep([20], 0.3) at epochs 19, 20, 21:", [round(float(v), 6) for v in e002["multistep at 20 and 40"](
    [19, 20, 21])])

# %% [markdown]
# ## Three families: step, exponential, cosine (C001-1)
#
# Seed 001 names three schedule families — fixed-step decay, exponential decay and cosine
# annealing — and says to implement and plot them. All three exist natively in both
# frameworks, with two differences in the cosine that a port must handle:
#
# * **After its end, PyTorch's cosine rises again.** `CosineAnnealingLR(T_max)` is periodic: at
#   $2\,T_{max}$ it is back at the initial rate. Keras's `CosineDecay` holds its floor. lrlab's
#   cosine holds (it is the schedule the seed means), so its PyTorch twin is PyTorch's own
#   `SequentialLR` of `CosineAnnealingLR` and a `ConstantLR` floor from `decay_steps` on.
# * **The floor is relative in Keras, absolute in PyTorch.** Keras's `alpha` is a fraction of
#   the initial rate, PyTorch's `eta_min` a rate. lrlab uses Keras's `alpha` and converts.
#
# The panels of {numref}`fig-02-families` run past the cosine's `decay_steps` (40 here) to show the hold.

# %%
c001 = {
    "step ×0.3 every 15": schedules.make("step", initial_lr=0.1, step_size=15, gamma=0.3),
    "exponential to 1 % at 40": schedules.make("exponential", initial_lr=0.1, decay_steps=40, decay_rate=0.01),
    "cosine over 40, alpha 0.1": schedules.make("cosine", initial_lr=0.1, decay_steps=40, alpha=0.1),
}

# %% mystnb={"figure": {"caption": "Seed 001's three families, step, exponential and cosine decay: the numpy formula (line) and the rate each update used in Keras (circles) and PyTorch (crosses); the printout below names the library of each native class.", "name": "fig-02-families"}} tags=["hide-input"]
used.draw(c001, updates)
c001_gaps, natives = used.last, native_modules(c001, FW)
print("classes from: " + "; ".join(f"{name}: " + ", ".join(sorted(set(m.split('.')[0] for m in mods)))
                                   for name, mods in natives.items()))

# %% [markdown]
# Past the end of the cosine, the native classes and lrlab's `cosine`:

# %%
T_MAX = 40
if "torch" in FW:
    native_lrs = lr_evidence.torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T_MAX, eta_min=0.01), 2 * T_MAX + 1, 0.1)
    print(f"torch CosineAnnealingLR(T_max={T_MAX}, eta_min=0.01) at updates 40, 60, 80:",
          [round(float(native_lrs[k]), 4) for k in (40, 60, 80)])
if "tf" in FW:
    keras_cosine = configure_tensorflow().keras.optimizers.schedules.CosineDecay(0.1, T_MAX, alpha=0.1)
    print(f"Keras CosineDecay(0.1, {T_MAX}, alpha=0.1) at updates 40, 60, 80:",
          [round(float(keras_cosine(k)), 4) for k in (40, 60, 80)])
print("lrlab cosine(0.1, 40, alpha=0.1) at updates 40, 60, 80:",
      [round(float(v), 4) for v in c001["cosine over 40, alpha 0.1"]([40, 60, 80])])

# %% [markdown]
# ### Periodic within a fixed range? (C001-1b)
#
# Seed 001 describes cosine annealing as a schedule that "changes the learning rate
# periodically within a fixed range". That is true of cosine annealing *with restarts* (SGDR,
# {cite:p}`loshchilov2017sgdr`), and the difference just shown suggests it may also be true of
# PyTorch's plain `CosineAnnealingLR` run past its end. We measure it on the frameworks' own
# objects. Each runs for eight periods $T$ ($T$ = `period` updates), from $0.1$ down to a floor
# of $0.01$: the plain cosine over $T$ (Keras `CosineDecay`, PyTorch `CosineAnnealingLR`, and
# lrlab's PyTorch twin, which holds the floor) and the restarted one with period $T$ and no
# shrinking peak (Keras `CosineDecayRestarts(t_mul=1, m_mul=1)`, PyTorch
# `CosineAnnealingWarmRestarts(T_mult=1)`; Keras's default `t_mul=2` doubles each period).
#
# **Rule**, per framework and per kind of schedule (with and without restarts): count the
# times the rate comes back to the top of its range (within 1 % of the initial rate) after
# leaving it ({py:func}`lrlab.lr_evidence.returns_to_top`, in
# {py:func}`lrlab.native_schedules.periodicity`) and check that it stays within
# $[0.01, 0.1]$. "Periodic within a fixed range" holds at 2 returns or more, inside the range.
# Deterministic, so there is no seed noise; if it holds with restarts only, the verdict is
# "holds only when with restarts".

# %%
plain = schedules.make("cosine", initial_lr=0.1, decay_steps=period, alpha=0.1)
restarted = schedules.make("cosine_restarts", initial_lr=0.1, first_decay_steps=period, t_mul=1.0, alpha=0.1)
cosines = {}
if "tf" in FW:
    cosines["tf"] = {"without restarts": ("CosineDecay", plain.to_keras()),
                     "with restarts": ("CosineDecayRestarts", restarted.to_keras())}
if "torch" in FW:
    sched = torch.optim.lr_scheduler
    cosines["torch"] = {"without restarts": ("CosineAnnealingLR", lambda o: sched.CosineAnnealingLR(o, period, 0.01)),
                        "with restarts": ("CosineAnnealingWarmRestarts",
                                          lambda o: sched.CosineAnnealingWarmRestarts(o, period, 1, 0.01)),
                        "lrlab twin": ("lrlab cosine (SequentialLR)", plain.to_torch)}

# %%
returns, table = native_schedules.periodicity(cosines, 8 * period, low=0.01, high=0.1)
print(f"over {8 * period} updates (8 periods of {period}):")
print(table.to_string(index=False))

# %% [markdown]
# Keras's plain cosine reaches its floor and stays there: it is annealing, not a cycle.
# PyTorch's `CosineAnnealingLR` keeps following the cosine past `T_max` and climbs back to the
# top every $2T$ updates — periodic, within the fixed range — though nothing in its name or
# in the way it is used (one annealing over the run) suggests it, and lrlab's PyTorch twin of
# `cosine` holds the floor like Keras. With restarts, both frameworks return to the top once a
# period.

# %% [markdown]
# One more default a port trips on: Keras's `PolynomialDecay` ends at
# `end_learning_rate=1e-4`, not at 0, unless told otherwise. lrlab's `polynomial` ends at its
# `end_lr` (0 by default) and always passes it to Keras; PyTorch's `PolynomialLR` can only end at 0.

# %% [markdown]
# ## Warmup (E000-3)
#
# Seed 000's ways to set the initial rate include a linear warmup to a target. lrlab's
# `warmup(after, warmup_steps, start_lr)` ramps linearly from `start_lr` to the first rate of
# any other schedule `after` over `warmup_steps` updates, then runs `after` from its start.
# Into a cosine, Keras has it natively (`CosineDecay(start_lr, …, warmup_target=…,
# warmup_steps=…)`); otherwise lrlab wraps the other Keras schedule in a small
# `LearningRateSchedule` subclass. In PyTorch the twin is native: `SequentialLR` of
# `LinearLR(start_factor, 1, warmup_steps)` and the other schedule's scheduler(s).
#
# `start_lr` must be positive. A warmup that starts at 0 — Keras's `CosineDecay` with
# `initial_learning_rate=0`, or PyTorch's `LambdaLR(lambda k: k / W)` — gives update 0 a rate
# of exactly 0, so the first batch is computed and thrown away. PyTorch's `LinearLR` refuses a
# `start_factor` of 0 for that reason, and so does lrlab.
#
# {numref}`fig-02-warmup` shows two warmups, into a cosine and into an exponential decay.
# %%
e000_3 = {
    "warmup 10 → cosine": schedules.make("warmup", warmup_steps=10, start_lr=0.001, after={
        "name": "cosine", "initial_lr": 0.01, "decay_steps": updates - 10}),
    "warmup 10 → exponential": schedules.make("warmup", warmup_steps=10, start_lr=0.001, after={
        "name": "exponential", "initial_lr": 0.01, "decay_steps": 10, "decay_rate": 0.7}),
}

# %% mystnb={"figure": {"caption": "A linear warmup over the first updates into a cosine and into an exponential decay: the numpy formula (line) and the rate each update used in Keras (circles) and PyTorch (crosses).", "name": "fig-02-warmup"}} tags=["hide-input"]
used.draw(e000_3, updates)

# %% [markdown]
# A warmup that starts at 0 is refused:

# %%
try:
    schedules.make("warmup", warmup_steps=10, start_lr=0.0, after={"name": "constant", "lr": 0.01})
except ValueError as error:
    print("lrlab:", error)

# %% [markdown]
# ## Cyclical, one-cycle, restarts (E002-4)
#
# Seed 002's cyclical learning rate (Smith, 2017) climbs linearly from a base rate to a maximum
# and back, over and over (`triangular`); `triangular2` halves the amplitude every cycle and
# `exp_range` shrinks it by $\gamma^k$. Keras has no class for it, so lrlab adds a small
# `LearningRateSchedule` subclass; PyTorch has `CyclicLR`. Two close relatives complete the
# picture: the *one-cycle* policy (one climb to a peak, then a long anneal to almost nothing;
# PyTorch `OneCycleLR`, a small Keras subclass) and cosine annealing with *warm restarts*
# (SGDR; Keras `CosineDecayRestarts`, PyTorch `CosineAnnealingWarmRestarts`, periods doubling here).
#
# Two PyTorch defaults change more than the learning rate. `CyclicLR` and `OneCycleLR` cycle the
# optimizer's **momentum** too (`cycle_momentum=True`), which silently turns `SGD(momentum=0)`
# into SGD with momentum $0.8$–$0.9$; lrlab's twins pass `cycle_momentum=False` unless asked. And
# `OneCycleLR` divides by zero when `pct_start · total_steps` is exactly 1; lrlab refuses such
# parameters with a message instead.
#
# {numref}`fig-02-cyclic` draws the three cyclical modes, one-cycle and the restarts.
# %%
e002_4 = {
    "triangular": schedules.make("cyclic", base_lr=0.001, max_lr=0.01, step_size_up=10),
    "triangular2": schedules.make("cyclic", base_lr=0.001, max_lr=0.01, step_size_up=10, mode="triangular2"),
    "exp_range γ=0.98": schedules.make("cyclic", base_lr=0.001, max_lr=0.01, step_size_up=10, mode="exp_range",
                                       gamma=0.98),
    "one-cycle": schedules.make("one_cycle", max_lr=0.01, total_steps=updates),
    "cosine restarts ×2": schedules.make("cosine_restarts", initial_lr=0.01, first_decay_steps=updates // 7),
}

# %% mystnb={"figure": {"caption": "Cyclical rates (triangular, triangular2, exp_range), the one-cycle policy and cosine annealing with warm restarts: the numpy formula (line) and the rate each update used in Keras (circles) and PyTorch (crosses).", "name": "fig-02-cyclic"}} tags=["hide-input"]
used.draw(e002_4, updates)

# %%
if "torch" in FW:
    sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, momentum=0.0)
    torch.optim.lr_scheduler.CyclicLR(sgd, base_lr=0.001, max_lr=0.01, step_size_up=10)
    print("SGD(momentum=0) after torch's CyclicLR with its defaults: momentum", sgd.param_groups[0]["momentum"])
    sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, momentum=0.0)
    e002_4["triangular"].to_torch(sgd)
    print("SGD(momentum=0) after lrlab's cyclic twin:                momentum", sgd.param_groups[0]["momentum"])
try:
    schedules.make("one_cycle", max_lr=0.01, total_steps=20, pct_start=0.05)
except ValueError as error:
    print("lrlab:", error)

# %% [markdown]
# ## What the frameworks used, over every figure
#
# Every update in every panel above was run through the real optimizers. The largest
# difference from the numpy reference, relative to the schedule's peak rate:

# %%
for name, gap in used.largest.items():
    print(f"{name}: {gap:.1e}" if gap >= 1e-12 else f"{name}: < 1e-12")
lrlab.record("decay_schedules:largest_gap_vs_reference", {name: float(f"{gap:.1e}") if gap >= 1e-12 else "< 1e-12"
                                                          for name, gap in used.largest.items()})

# %% [markdown]
# Keras's gap is float32 rounding: its schedules run in float32 with TensorFlow's own `pow`
# and `cos`, whose last bit differs from numpy's now and then, and its optimizer holds the rate
# in a float32 variable. PyTorch's schedulers keep the rate as a Python float, so they agree
# with the float64 reference to rounding of the last bits. The figures coincide.
#
# ## Reduce on plateau (E002-5, E000-3)
#
# Seed 002 recommends Keras's `ReduceLROnPlateau` callback, seed 000 "performance-based
# decay": cut the rate by a factor when the validation loss stops improving. It depends on a
# metric, so it is a callback rather than a schedule, and Keras's and PyTorch's versions of it
# disagree in more ways than their documentation suggests:
#
# | | Keras `ReduceLROnPlateau` | PyTorch `ReduceLROnPlateau` |
# |---|---|---|
# | patience $p$ | cuts at the $p$-th epoch without gain ($p = 0$ acts as 1) | cuts at the $(p+1)$-th |
# | cooldown $c$ | ignores $c - 1$ epochs after a cut ($c = 1$ acts as 0) | ignores $c$ epochs |
# | threshold | `min_delta`, absolute, `1e-4` | `threshold` `1e-4`, **relative**: $m < best\,(1 - t)$ |
# | small rates | cuts while `lr > min_lr` | cuts only if `old − new > eps` (`eps=1e-8`): smaller rates never fall |
# | NaN | a NaN first epoch becomes "best", and nothing beats it | NaN never improves |
#
# We feed one synthetic validation-loss curve — a decay to a noisy plateau, the same numbers
# to both — to each framework's native rule, given the *same* numbers for patience (3),
# cooldown (2), threshold ($0.002$) and factor ($0.5$).

# %%
rng = np.random.default_rng(seed)
metric = np.round(0.3 + 0.7 * np.exp(-np.arange(40) / 4) + rng.normal(0, 0.004, 40), 4)
same_numbers = dict(factor=0.5, patience=3, cooldown=2)
native = {}
if "tf" in FW:
    native["Keras native"] = plateau.keras_lrs(metric, 0.01, mode="min", min_delta=0.002, **same_numbers)
if "torch" in FW:
    native["torch native"] = plateau.torch_lrs(metric, 0.01, threshold=0.002, **same_numbers)
rule = plateau.PlateauRule(threshold=0.002, **same_numbers)
native["lrlab PlateauRule"] = plateau.rule_lrs(rule, metric, 0.01)
for label, lrs in native.items():
    print(f"{label:>20}: cuts after epochs {cut_epochs(lrs)}")  # lrlab.native_schedules.cut_epochs

# %% [markdown]
# With the same numbers, the two native rules cut at different epochs: Keras counts the
# patience one epoch shorter, its cooldown one epoch shorter again, and PyTorch's threshold is
# relative ($0.2$ % of the best loss, not $0.002$). lrlab's rule (`lrlab.plateau.PlateauRule`) is one
# documented behaviour: PyTorch's counting, where every value of patience and cooldown means
# something different; an absolute threshold by default, so negative metrics work; no `eps`;
# NaN is never an improvement. Given the arguments `plateau.keras_kwargs(rule)` and
# `plateau.torch_kwargs(rule)` (Keras's patience and cooldown + 1, PyTorch's
# `threshold_mode="abs"` and `eps=0`), the native rules agree with it. So do the backends'
# `ReduceLROnPlateau` callbacks, which apply it in `fit`: a callback sees the training loop only
# through the LR it reads and sets, so we can hand each one the same sequence directly
# ({py:func}`lrlab.native_schedules.callback_lrs`).

# %% tags=["hide-input"]
mapped = {"lrlab PlateauRule": native["lrlab PlateauRule"]}
if "tf" in FW:
    mapped["Keras, mapped"] = plateau.keras_lrs(metric, 0.01, **plateau.keras_kwargs(rule))
if "torch" in FW:
    mapped["torch, mapped"] = plateau.torch_lrs(metric, 0.01, **plateau.torch_kwargs(rule))
for name, backend in backends.items():
    mapped[f"lrlab.{name} callback"] = native_schedules.callback_lrs(backend, metric, 0.01, threshold=0.002,
                                                                     **same_numbers)
for label, lrs in mapped.items():
    print(f"{label:>20}: cuts after epochs {cut_epochs(lrs)}")
lrlab.record("example:E002-5", {"quantity": "epochs after which the ReduceLROnPlateau callback cut the rate",
                                **{name: str(cut_epochs(mapped[f"lrlab.{name} callback"])) for name in FW}})
print("all agree:", all(np.allclose(lrs, mapped["lrlab PlateauRule"], rtol=1e-6) for lrs in mapped.values()))

# %% [markdown]
# {numref}`fig-02-plateau` draws the metric and the three rules' rates, given the same numbers.

# %% mystnb={"figure": {"caption": "One synthetic validation-loss sequence (top) and the learning rate Keras's native ReduceLROnPlateau, PyTorch's native one and lrlab's PlateauRule set after each epoch from it (bottom, log scale), given the same patience, cooldown, threshold and factor.", "name": "fig-02-plateau"}} tags=["hide-input"]
native_schedules.plot_plateau_rules(metric, native)
plt.show()

# %% [markdown]
# ## A user function per epoch: `LearningRateScheduler` and its PyTorch counterpart (E002-5)
#
# Keras's `LearningRateScheduler(fn)` calls `fn(epoch, lr)` at the start of every epoch and
# sets the rate to what it returns. PyTorch's counterpart for a rule written as "from the
# previous rate" is `MultiplicativeLR(factor)`, stepped after every epoch; for a closed form
# of the epoch it is `LambdaLR`, and for the named families it is lrlab's schedule counted in
# epochs. The three agree on "halve every 5 epochs":

# %%
def halve_every_5(epoch, lr):
    """The user function: halve the rate at epochs 5, 10, 15, …"""
    return lr * 0.5 if epoch > 0 and epoch % 5 == 0 else lr


user = {"lrlab step(0.1, 5, 0.5)": schedules.make("step", initial_lr=0.1, step_size=5, gamma=0.5)(np.arange(16))}
if "tf" in FW:
    user["Keras LearningRateScheduler"] = twins.keras_scheduler_lrs(halve_every_5, 16, 0.1)
if "torch" in FW:
    user["torch MultiplicativeLR"] = twins.torch_multiplicative_lrs(lambda e: 0.5 if e % 5 == 0 else 1.0, 16, 0.1)
print(pd.DataFrame({label: np.round(lrs, 5) for label, lrs in user.items()}).T.to_string())
print("same rates:", all(np.allclose(lrs, user["lrlab step(0.1, 5, 0.5)"], rtol=1e-6) for lrs in user.values()))

# %% [markdown]
# ## Each family on the seed-001 task, in both frameworks
#
# The figures show that the frameworks use the same rates. Do the families matter for
# training? Seed 001's task (E001-1): 1,000 rows of 20 uniform features, the label says whether
# they sum to more than 10, and a 64–32–1 network trained with Adam on binary cross-entropy. We
# keep the first 800 rows for training and the last 200 for validation (seed 001's
# `validation_split=0.2`), draw the initial weights once in numpy so that both frameworks start
# from the same network, visit the batches in the same order, and give every family the same
# peak rate (`peak_lr`) and the same horizon: the whole run, counted in updates. The last
# family keeps the rate constant and lets the backends' `ReduceLROnPlateau` (lrlab's rule:
# halve after 2 epochs in which the validation loss improves by less than `threshold=1e-3`) cut it.

# %%
task = data.seed001_task(seed=seed)
x, y = task.train
train, val = (x[:800], y[:800]), (x[800:], y[800:])
total = epochs * -(-800 // batch_size)  # updates in the whole run
families = {
    "constant": peak_lr,
    "step (×0.2 twice)": schedules.make("step", initial_lr=peak_lr, step_size=-(-total // 3), gamma=0.2),
    "exponential (to 1 %)": schedules.make("exponential", initial_lr=peak_lr, decay_steps=total, decay_rate=0.01),
    "inverse time (to 10 %)": schedules.make("inverse_time", initial_lr=peak_lr, decay_steps=total, decay_rate=9.0),
    "cosine": schedules.make("cosine", initial_lr=peak_lr, decay_steps=total),
    "warmup + cosine": schedules.make("warmup", warmup_steps=total // 10, start_lr=peak_lr / 10, after={
        "name": "cosine", "initial_lr": peak_lr, "decay_steps": total - total // 10}),
    "cosine restarts": schedules.make("cosine_restarts", initial_lr=peak_lr, first_decay_steps=max(1, total // 7)),
    "cyclic (triangular)": schedules.make("cyclic", base_lr=peak_lr / 10, max_lr=peak_lr,
                                          step_size_up=max(1, total // 6)),
    "one-cycle": schedules.make("one_cycle", max_lr=peak_lr, total_steps=total),
    "plateau": peak_lr,
}

# %% [markdown]
# Each family trains once per framework ({py:func}`lrlab.decay_families.train`); the table gives
# where each run ended.

# %%
histories = decay_families.train(backends, families, train, val, epochs=epochs, batch_size=batch_size, seed=seed)
results = decay_families.final_table(histories, families, FW)
print(f"{epochs} epochs, batch {batch_size}, {total} updates, Adam, peak LR {peak_lr:g}")
print(results.to_string(index=False))
lrlab.record("decay_schedules:seed001_final_validation", results.to_dict(orient="records"))

# %% [markdown]
# {numref}`fig-02-training` follows each run's validation loss over the epochs.

# %% mystnb={"figure": {"caption": "Validation loss per epoch of the seed-001 network trained with Adam under each decay family, all from the same peak rate `peak_lr` and initial weights; one panel per framework, log scale.", "name": "fig-02-training"}} tags=["hide-input"]
decay_families.plot_val_loss(histories, families, FW)
plt.show()
if "plateau" in families:
    for name in FW:
        lrs = histories["plateau", name].lr.to_numpy()
        print(f"{name}: ReduceLROnPlateau halved the LR after epochs {cut_epochs(lrs[1:], lrs[0])}")

# %% [markdown]
# How to read the table. Validation here is 200 rows, so one more or one fewer misclassified
# row moves the accuracy by $1/200$, and each family ran once, from one seed. The cell below
# puts the differences between families next to the differences between the two frameworks
# running *the same* family, which are only rounding grown over the whole run: a gap between
# families smaller than that is not evidence that one family is better.

# %%
moves = decay_families.late_moves(histories, families, FW)  # max - min of val_loss over the last 5 epochs
print("\n".join(decay_families.summary_lines(results, moves, FW)))

# %%
cuts = {name: len(cut_epochs(histories["plateau", name].lr.to_numpy()[1:], histories["plateau", name].lr.iloc[0]))
        for name in FW}
for key, value in decay_families.glued(results, moves, cuts, FW).items():
    glue(key, value, display=False)

# %% [markdown]
# With the defaults, the run at a constant rate is the odd one out. Its validation loss never
# settles: over the last five epochs it still moves by {glue:text}`c2_const_move:.2f` or more
# ({numref}`fig-02-training`), so its final value is a draw from that noise — {glue:text}`c2_const_tf:.3f` in
# Keras, {glue:text}`c2_const_torch:.3f` in PyTorch, where the two frameworks' different
# rounding has grown into different trajectories. Under the schedules the rate ends low and
# the curve settles (a median move of at most {glue:text}`c2_sched_move:.3f` over the last five
# epochs; the cyclic rate, back at its peak at epoch 25, is the exception), and the two
# frameworks end within {glue:text}`c2_fw_gap:.3f` of each other.
#
# The other seven schedules end between {glue:text}`c2_settled_lo:.2f` and
# {glue:text}`c2_settled_hi:.2f` in both frameworks. That spread is the same order as the
# frameworks' own gap on one family, and each family ran from one seed, so this run does not
# rank cosine, one-cycle, step, cyclic or plateau decay against each other. What it does show
# is that decay turns a noisy end point into a settled one, near the low end of what the
# constant rate visits on the way, and makes the two frameworks agree. Two schedules end
# clearly higher. Exponential decay to 1 % of the peak (up to {glue:text}`c2_exp:.2f`) is down
# to a tenth of the peak half-way through and spends the second half barely moving. Cosine with
# restarts (up to {glue:text}`c2_restarts:.2f`) climbs back to the peak twice. The plateau
# callback halved the rate {glue:text}`c2_cuts_tf` times in Keras and
# {glue:text}`c2_cuts_torch` times in PyTorch, at different epochs: the rule is the same in both
# frameworks, but it reads each framework's own validation curve, and those differ.
#
# ## Verdicts
#
# Seed 001's claim C001-1 splits into two parts, each judged in each framework from that
# framework's own objects. Both are deterministic measurements (no seed noise).
#
# * **C001-1a** — step, exponential and cosine decay are standard, each native in Keras and
#   PyTorch and each matching its formula. **Rule:** each of the three converts to the
#   framework's own classes (`keras.optimizers.schedules`, `torch.optim.lr_scheduler`), and over
#   every update of the three-family figure the rate the optimizer used is within $10^{-6}$ of
#   the formula, relative to the peak rate. Keras computes its schedules in float32, whose
#   rounding is about $10^{-7}$. The effect is the largest gap; it must be *at most* the bound
#   ({py:func}`lrlab.lr_evidence.at_most`).
# * **C001-1b** — cosine annealing changes the rate periodically within a fixed range.
#   **Rule:** the one stated in its section above: at least 2 returns to the top in eight
#   periods, inside the range, judged with and without restarts.
#
# The threshold of each is then halved and multiplied by $1.5$ (survives ±50 %).
# These verdicts rest on no data set: their regime is "schedules", the rates themselves.

# %%
SCOPE_1A = (f"step, exponential and cosine decay: every update 0-{updates - 1} of the C001-1 figure, read from "
            "SGD's update")
SCOPE_1B = f"cosine from 0.1 to 0.01 with period {period}, run for {8 * period} updates, the frameworks' own objects"
V = []
for name in FW:
    native = all(m.split(".")[0] == ("keras" if name == "tf" else "torch") for m in natives[name])
    gap = float(f"{c001_gaps[name]:.1e}") if c001_gaps[name] >= 1e-12 else 0.0  # as printed
    labels = {kind: label for kind, (label, _) in cosines[name].items()}
    V += native_schedules.judge_c001_1(name, native=native, gap=gap, returns=returns, labels=labels,
                                       scope_1a=SCOPE_1A, scope_1b=SCOPE_1B)
for v in V:
    verdicts.record(v)
print(lr_evidence.verdict_table(V, digits=2).to_string(index=False))

# %% [markdown]
# **C001-1a holds** in both frameworks: the three families are standard, native in both, and
# the optimizers use the formula's rates — Keras to float32 rounding, PyTorch to the rounding
# of the last bits of a float64. **C001-1b** is where the frameworks part. In Keras, cosine
# annealing is periodic only with restarts (`CosineDecayRestarts`); `CosineDecay` anneals once
# and holds its floor, which is what lrlab's `cosine` does in both frameworks. In PyTorch it
# holds either way, because `CosineAnnealingLR` never stops: run past `T_max` it climbs back
# and repeats every $2\,T_{max}$ updates. So seed 001's description fits SGDR and PyTorch's
# cosine run past its end, and not the one-shot annealing most code means by "cosine decay"
# (Keras, or PyTorch's `CosineAnnealingLR` with `T_max` equal to the run).
#
# How much each family helps depends on its horizon and floor (exponential decay to 1 % was too
# fast here), and one seed cannot rank them. The E rows are reproduced in both frameworks with
# today's APIs, and two of the seeds' statements are corrected on the way: `staircase=True`
# holds the rate for `decay_steps` updates and then drops it (E000-2), and "Keras's
# `ReduceLROnPlateau` and its PyTorch counterpart" (E002-5) are two different rules unless their
# arguments are translated — patience, cooldown and threshold all count differently.
