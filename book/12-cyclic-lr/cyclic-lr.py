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
# # Does a cyclical learning rate find the global minimum?
#
# **Seed rows covered:** C002-2, in two parts — C002-2a (a cyclical learning rate helps
# training leave local minima) and C002-2b (it "can find the global minimum") — with the
# triangular schedule of E002-4.
#
# Seed 002 recommends the cyclical learning rate of Smith (2017): the rate climbs linearly from a
# base value to a maximum and back, again and again. The seed says this lets training escape
# local minima and explore the parameter space, and that it can find the global minimum. The
# first half is the usual intuition; the second is a much stronger statement. Neither can be
# checked on a network whose minima nobody knows, so we first use a loss of one weight whose
# minima we *do* know — the regime the verdicts call **surfaces** — then come back to a real
# network.
#
# The plan:
#
# 1. a one-weight loss with three minima: two sharp (one of them the global minimum) and one
#    wide (`lrlab.data.Wells`);
# 2. start gradient descent *at* each minimum and let the cyclical schedule run: does it leave?
#    Where does it go? (both frameworks, the same native schedule);
# 3. start from many points and count, in each framework, where the runs end, against where a
#    small constant rate ends (the basin each start lies in) — the verdicts rest on these counts;
# 4. the same schedule on an MLP on the digits data, against constant and monotonically decaying
#    rates, over several seeds.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first seed of the MLP runs (init and batch order)
base_lr: float = 0.001  # the cyclical schedule's lower bound on the one-weight loss
max_lrs: str = "0.2,0.7"  # its upper bounds compared, comma-separated
step_size_up: int = 25  # updates from the base to the maximum (half a cycle)
cycles: int = 2  # whole cycles run: 2 * step_size_up * cycles updates, ending at base_lr
starts: int = 61  # starting points of the count, evenly spread over [-4.5, 4.5]
mlp_seeds: int = 5  # seeds of each MLP run
mlp_epochs: int = 20  # epochs of each MLP run
mlp_batch_size: int = 64
mlp_base_lr: float = 0.05  # the MLP's cyclical schedule goes from mlp_base_lr ...
mlp_max_lr: float = 1.0  # ... to mlp_max_lr and back every 4 epochs

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import cyclic_basins, lr_bands, plots, report, schedules, sensitivity, verdicts
from lrlab.data import Wells, digits
from lrlab.mlp_runs import fit_mlp
from lrlab.report import glue

plots.setup()  # the book's figures, whatever the caller's matplotlib settings
P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1), base_lr=lrlab.Float(0, 10, low_open=True),
    max_lrs=lrlab.FloatList("base_lr", 10, low_open=True, sort=True), step_size_up=lrlab.Int(1, 1000),
    cycles=lrlab.Int(1, 20), starts=lrlab.Int(2, 1000), mlp_seeds=lrlab.Int(1, 20), mlp_epochs=lrlab.Int(1, 500),
    mlp_batch_size=lrlab.Int(1, 2000), mlp_base_lr=lrlab.Float(0, 10, low_open=True),
    mlp_max_lr=lrlab.Float("mlp_base_lr", 10, low_open=True))
FW, MAX_LRS = P.frameworks, P.max_lrs
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)

STEPS = 2 * step_size_up * cycles
print(f"frameworks: {', '.join(FW)}; {STEPS} updates per run")

# %% [markdown]
# ## A loss with known minima
#
# `lrlab.data.Wells` is a shallow bowl with three Lorentzian wells,
#
# $$ L(w) = b\,w^2 - \sum_i \frac{d_i}{1 + \big((w - c_i)/\sigma_i\big)^2}, $$
#
# where well $i$ is $d_i$ deep and $\sigma_i$ wide. Its curvature at the bottom is about
# $2b + 2d_i/\sigma_i^2$, and from the gradient step chapter we know what that means: gradient
# descent can only *settle* in a minimum of curvature $L''$ if $\eta < 2/L''$. Above that rate a
# run cannot stay — it has to go somewhere else. We use two versions of the surface: in the
# first the global minimum is a sharp well, in the second the wide well is the deepest.

# %% tags=["hide-input"]
surfaces = {"sharp global": Wells(), "wide global": Wells(depths=(2.0, 0.8, 1.2))}
for label, surface in surfaces.items():
    print(f"--- {label} ---")
    print(surface.minima().round(4).to_string())
stable = pd.concat([s.minima() for s in surfaces.values()]).max_stable_lr
for kind, part in (("sharp", stable[stable < 0.5]), ("wide", stable[stable >= 0.5])):
    glue(f"c002_2_{kind}_lr_low", round(float(part.min()), 2), display=False)
    glue(f"c002_2_{kind}_lr_high", round(float(part.max()), 2), display=False)

# %% mystnb={"figure": {"caption": "The two one-weight surfaces: on the first the global minimum (star) is a sharp well, on the second the wide well; dots mark the other minima.", "name": "fig-12-surfaces"}} tags=["hide-input"]
cyclic_basins.plot_surfaces(surfaces)
plt.show()

# %% [markdown]
# {numref}`fig-12-surfaces` shows the two surfaces. The sharp wells can hold a run only below
# $\eta \approx$
# {glue:text}`c002_2_sharp_lr_low`–{glue:text}`c002_2_sharp_lr_high` (the column
# `max_stable_lr`, $2/L''$); the wide wells hold it up to
# {glue:text}`c002_2_wide_lr_low`–{glue:text}`c002_2_wide_lr_high`. A triangular cycle
# from `base_lr` to `max_lr` therefore behaves in one of two ways, depending on `max_lr`, and the
# curvature — not the depth — decides which.
#
# ## Started at a minimum: does the cyclical rate leave it?
#
# Each run starts next to one of the three minima of the sharp-global surface ($0.01$ to its
# right: exactly at a minimum the gradient is zero and even an unstable point would not be left
# until rounding nudged it) and follows the cyclical schedule
# (`lrlab.schedules.make("cyclic", ...)`, Keras and PyTorch each get their native twin of it) for
# whole cycles, so that it ends at the base rate. We report the minimum it ends in ("none" if it
# ends more than $0.05$ from any minimum). The runs are the frameworks' own SGD on one float32
# weight, several starts at once ({py:func}`lrlab.many_starts.descend_many`: each start's path is
# the one the backend's `descend` gives it alone).

# %%
def cyclic(max_lr):
    """The triangular cycle from base_lr to max_lr and back, step_size_up updates each way."""
    return schedules.make("cyclic", base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up, mode="triangular")


sharp = surfaces["sharp global"]
escapes, traces = cyclic_basins.escapes(FW, sharp, cyclic, MAX_LRS, STEPS, offset=0.01)
print(escapes.pivot_table(index=["max_lr", "start"], columns="framework", values="end", aggfunc="first").to_string())
if len(FW) == 2:
    print(cyclic_basins.escape_agreement(escapes, traces))

# %% mystnb={"figure": {"caption": "Top: the cyclical schedules, one per `max_lrs`. Bottom: the runs started next to the global (sharp) minimum of the first surface, TensorFlow solid and PyTorch dashed; grey lines mark the three minima.", "name": "fig-12-escape"}} tags=["hide-input"]
global_index = int(np.flatnonzero(sharp.minima()["global"])[0])
cyclic_basins.plot_escape(traces, sharp, cyclic, MAX_LRS, FW, STEPS, start=global_index)
plt.show()

# %% [markdown]
# With the smaller maximum nothing happens ({numref}`fig-12-escape`): the rate is above $2/L''$ of
# the sharp wells for part
# of each cycle, but not high enough to throw a run out of them — it bounces inside the well and
# settles again when the rate comes down — so every run ends where it started: the cycle is
# harmless and useless. With the larger maximum the runs do leave the sharp minima: the iterate
# bounces, is thrown out, and when the rate comes back down it is caught by the one basin that
# was stable all along, the wide one. That includes the run that started at the **global**
# minimum: the cyclical rate took it *out* of the best point of the surface and left it in the
# worst of the three minima.
#
# While a run bounces, it is chaotic: the last-bit differences between Keras's and PyTorch's
# float32 arithmetic grow until the two trajectories have nothing in common (the largest gap
# printed above). Yet both frameworks end these runs in the same minimum. The exact path does
# not matter; which basins can hold the run at the rate it has when the cycle comes down does.
#
# ## Many starting points
#
# A small constant rate ends in the minimum of the basin each start lies in (`Wells.basin`: the
# interval between the two maxima around it). We run the cyclical schedule with each maximum from
# `starts` evenly spread points on both surfaces, in each framework, and count where the runs
# end. Which well a bouncing run is caught by is chaotic — one run more or less lands elsewhere
# when the CPU rounds its last bits differently — so each share below is printed as a band (under
# $10$ %, $10$–$90$ %, over $90$ %, {py:func}`lrlab.report.share_text`) and the verdicts read the
# shares to one decimal.
#
# **Rules, before the numbers** (per framework, from its own runs; the runs have no seed, so
# there is no seed noise: "exact" in the tables means deterministic up to the chaos just
# described).
#
# * **C002-2a** (helps leave local minima): among the starts in the basin of a *local*
#   (non-global) minimum, the share whose run ends somewhere else; a small constant rate leaves
#   none, so the share is the effect. It holds if more than half leave (threshold $0.5$). It is
#   measured separately for sharp and wide local minima and for each `max_lr`, and holds without
#   condition only if it holds in all four.
# * **C002-2b** (can find the global minimum): the share of all starts whose run ends at the
#   global minimum, minus the share that a small constant rate brings there (the starts in its
#   basin). It holds if the cycle adds at least $0.25$ (a quarter of all starts), separately on
#   the surface whose global minimum is wide and on the one whose global minimum is sharp, and
#   for each `max_lr`.

# %%
w0s = np.linspace(-4.5, 4.5, starts)
counts = cyclic_basins.count_ends(FW, surfaces, cyclic, MAX_LRS, w0s, STEPS)
left, at_global = cyclic_basins.left_shares(counts), cyclic_basins.global_shares(counts)
print(f"{starts} starts per surface; share of the starts in a local minimum's basin that left it:")
print(left.map(report.share_text).to_string())
print("\nshare of all starts that end at the global minimum:")
print(at_global.map(report.share_text).unstack("framework").to_string())

# %% mystnb={"figure": {"caption": "Where each run from the `starts` starting points ends, on each surface, for the largest of `max_lrs` (the last framework of `frameworks`); red marks a run that left the basin it started in.", "name": "fig-12-ends"}} tags=["hide-input"]
top = MAX_LRS[-1]
cyclic_basins.plot_ends(counts, top, FW[-1])
plt.show()

# %% [markdown]
# {numref}`fig-12-ends` reads the same on both surfaces: the runs that started in a sharp basin move, and
# nearly all move to the same place, the wide well (a few runs that start far out on the bowl
# have not arrived anywhere by the end: "none"); the runs that started in the wide basin stay.
# On the surface where the wide well is the global minimum, the cyclical rate therefore "finds
# the global minimum" from nearly every start. On the surface where the global minimum is sharp
# it finds it from nearly none — fewer than the plain small rate, which at least finds it from
# the starts that lie in its basin.

# %%
LEAVE, FIND = 0.5, 0.25  # C002-2a: share of runs that leave; C002-2b: share of starts the cycle adds at the global
scope = (f"1-D Wells surfaces (sharp and wide global minimum), plain SGD on one float32 weight, triangular cycle "
         f"{base_lr:g} to max_lr {', '.join(f'{m:g}' for m in MAX_LRS)}, {STEPS} updates, {starts} starts")
found = []
for name in FW:
    found.append(cyclic_basins.judge_leave(name, left, MAX_LRS, LEAVE, scope=scope))
    found.append(cyclic_basins.judge_find(name, at_global, surfaces, MAX_LRS, FIND, scope=scope))
print(lr_bands.table(found, digits=1).to_string(index=False))

# %% [markdown]
# So the cyclical rate does not search for the deepest point. A large rate filters minima by
# their **width**: it cannot stay where the curvature exceeds $2/\eta$ by enough to throw it out,
# and the cycle's low phase lets it settle in whatever wide basin it is in at the time. Whether
# that is the global minimum is a property of the landscape, not of the schedule. (For networks
# there is an argument that wide minima generalise better — Keskar et al. 2017 — which is one
# reason large rates and cycles can help; it is a different claim from the seed's.)
#
# ## On a network
#
# We cannot list an MLP's minima, but we can ask whether the cycle ends training anywhere
# better than simpler schedules with the same budget. A 64–32–10 MLP on the digits data is
# trained with plain SGD (plain, because with momentum Keras and PyTorch treat a changing rate
# differently — see the momentum chapter) for `mlp_epochs` epochs under three schedules: the
# maximum rate held constant (the best constant rate for this budget, see the optimizers
# chapter), the triangular cycle between the base and the maximum (four epochs per cycle,
# ending at the base rate) and a cosine decay from the maximum to the base rate.
# Each runs with `mlp_seeds` seeds (initial weights and batch order; the three schedules of one
# seed train together in one `fit_many` call); we report the training loss of the last epoch and
# the final validation loss as mean ± standard deviation over seeds.

# %%
data = digits(seed=0)
steps_per_epoch = -(-len(data.train[0]) // mlp_batch_size)
total_steps = mlp_epochs * steps_per_epoch
mlp_schedules = {
    f"constant {mlp_max_lr:g}": mlp_max_lr,
    "triangular cycle": schedules.make("cyclic", base_lr=mlp_base_lr, max_lr=mlp_max_lr,
                                       step_size_up=2 * steps_per_epoch, mode="triangular"),
    "cosine decay": schedules.make("cosine", initial_lr=mlp_max_lr, decay_steps=total_steps,
                                   alpha=mlp_base_lr / mlp_max_lr),
}
labels, MLP_SEEDS = list(mlp_schedules), list(range(seed, seed + mlp_seeds))

# %% [markdown]
# The three schedules of one seed are three configurations of one `fit_many` call
# ({py:func}`lrlab.mlp_runs.fit_mlp`); {py:func}`lrlab.sensitivity.sweep` makes the call per
# framework and seed and keeps where each model ended.

# %%
curves = {}


def run(framework, seed):
    """Train the three schedules from one seed; keep each model's history for the figure."""
    history = fit_mlp(backends[framework], data, "sgd", [{"lr": lr} for lr in mlp_schedules.values()], seed,
                      epochs=mlp_epochs, batch_size=mlp_batch_size)
    curves.update({(framework, label, seed): history[history.model == m] for m, label in enumerate(labels)})
    return history


mlp = sensitivity.sweep(run, mlp_epochs, framework=FW, seed=MLP_SEEDS)
mlp = mlp.assign(schedule=[labels[m] for m in mlp.model]).rename(
    columns={"loss": "train loss", "val_loss": "val loss", "val_accuracy": "val accuracy"})

# %%
mlp_summary = mlp.groupby(["schedule", "framework"], sort=False)[["train loss", "val loss", "val accuracy"]] \
    .agg(["mean", "std"]).round(3)
print(mlp_summary.to_string())
if len(FW) == 2:
    print(sensitivity.agreement({fw: mlp[mlp.framework == fw] for fw in FW}, ["schedule", "seed"], "val loss",
                                1e-5).attrs["text"])

# %% mystnb={"figure": {"caption": "The MLP on the digits data under the three schedules (the first framework of `frameworks`): left, the learning rate at the end of each epoch; right, the training loss of each of the `mlp_seeds` seeds.", "name": "fig-12-mlp"}} tags=["hide-input"]
cyclic_basins.plot_schedules(curves, labels, FW[0], MLP_SEEDS)
plt.show()

# %% [markdown]
# {numref}`fig-12-mlp` shows the schedules and the training they give: the cycle's training loss
# is the bumpiest, rising around the peaks of the rate. On the network neither part can be decided: nobody knows its minima, so "left a local minimum"
# and "found the global one" cannot be observed. The digits regime therefore records both parts
# as "not testable here", with the network's numbers as the evidence of what a cycle does there.

# %%
for name in FW:
    part = mlp[mlp.framework == name].groupby("schedule", sort=False)["val loss"]
    text = "; ".join(f"{k} {m:.3f} (seed std {s:.3f})" for k, m, s in zip(part.mean().index, part.mean(), part.std()))
    for p in ("C002-2a", "C002-2b"):
        found.append(verdicts.record(verdicts.Verdict(
            part=p, framework=name, word="not testable here", rule="needs the minima of the loss, unknown for an MLP",
            evidence=f"an MLP's minima are unknown; final val loss over {mlp_seeds} seeds: {text}", seeds=mlp_seeds,
            scope=f"digits, MLP 64-32-10, plain SGD, {mlp_epochs} epochs, batch {mlp_batch_size}")))

# %%
v = {(f.part, f.framework, f.regime): f for f in found}
for name in FW:
    for p in ("C002-2a", "C002-2b"):
        glue(f"{p.lower().replace('-', '_')}_word_{name}", lr_bands.Words(v[p, name, "surfaces"].text), display=False)
sharp_at_global = at_global.loc[("sharp global", top)]["cycle at global"]
glue("c002_2b_sharp_share", lr_bands.Words(report.share_text(float(sharp_at_global.max()))), display=False)
glue("c002_2b_sharp_small", lr_bands.Words(report.share_text(
    float(at_global.loc[("sharp global", top)]["small lr at global"].max()))), display=False)

# %% [markdown]
# ## Verdicts
#
# **C002-2a** (surfaces): PyTorch {glue:text}`c002_2a_word_torch`; TensorFlow
# {glue:text}`c002_2a_word_tf`. A cyclical learning rate does help a run leave a minimum — but
# only a minimum sharp enough that the cycle's peak rate throws the run out, and it leaves *any*
# such minimum, the global one included.
#
# **C002-2b** (surfaces): PyTorch {glue:text}`c002_2b_word_torch`; TensorFlow
# {glue:text}`c002_2b_word_tf`. Where the run ends is the widest basin in reach, which is the
# global minimum only when the landscape puts the global minimum in the widest basin. When the
# global minimum is the sharp one, the cycle ends there in {glue:text}`c002_2b_sharp_share` of the
# runs (a small constant rate: {glue:text}`c002_2b_sharp_small`): there the cycle takes runs
# *away* from the global minimum, and "can find" describes the landscape, not the schedule. The
# two frameworks agree although their bouncing runs part after a few updates: the verdict
# depends on which basins can hold a run, not on the path.
#
# **Scope and limits.** One-dimensional surfaces with three minima, plain SGD, one schedule shape
# and two peak rates, no noise from mini-batches; the network (digits regime) cannot test either
# part. On the MLP the cycle ends about where a cosine decay over the same range ends, within the
# seeds' spread of the best constant rate (the table above); its benefit in Smith's experiments was
# speed of reaching a good accuracy with little tuning, not a search for the global minimum.
