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
# **Seed rows covered:** C002-2 (a cyclical learning rate helps training leave local minima and
# "can find the global minimum"), with the triangular schedule of E002-4.
#
# Seed 002 recommends the cyclical learning rate of Smith (2017): the rate climbs linearly from a
# base value to a maximum and back, again and again. The seed says this lets training escape
# local minima and explore the parameter space, and that it can find the global minimum. The
# first half is the usual intuition; the second is a much stronger statement. Neither can be
# checked on a network whose minima nobody knows, so we first use a loss of one weight whose
# minima we *do* know, then come back to a real network.
#
# The plan:
#
# 1. a one-weight loss with three minima: two sharp (one of them the global minimum) and one
#    wide (`lrlab.data.Wells`);
# 2. start gradient descent *at* each minimum and let the cyclical schedule run: does it leave?
#    Where does it go? (both frameworks, the same native schedule);
# 3. start from many points and count where the runs end, against where a small constant rate
#    ends (the basin each start lies in);
# 4. the same schedule on an MLP on the digits data, against constant and monotonically decaying
#    rates, over several seeds.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first seed of the MLP runs (init and batch order)
base_lr: float = 0.001  # the cyclical schedule's lower bound on the one-weight loss
max_lrs: str = "0.2,0.7"  # its upper bounds compared, comma-separated
step_size_up: int = 25  # updates from the base to the maximum (half a cycle)
cycles: int = 2  # whole cycles run: 2 * step_size_up * cycles updates, ending at base_lr
starts: int = 31  # starting points of the count, evenly spread over [-4.5, 4.5]
count_framework: str = "torch"  # runs the many-start count (falls back to the one framework run; tf takes ~10x longer)
mlp_seeds: int = 3  # seeds of each MLP run
mlp_epochs: int = 20  # epochs of each MLP run
mlp_batch_size: int = 64
mlp_base_lr: float = 0.05  # the MLP's cyclical schedule goes from mlp_base_lr ...
mlp_max_lr: float = 1.0  # ... to mlp_max_lr and back every 4 epochs

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import schedules, sensitivity
from lrlab.data import Wells, digits

P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1), base_lr=lrlab.Float(0, 10, low_open=True),
    max_lrs=lrlab.FloatList("base_lr", 10, low_open=True, sort=True), step_size_up=lrlab.Int(1, 1000),
    cycles=lrlab.Int(1, 20), starts=lrlab.Int(2, 1000), count_framework=lrlab.Choice("tf", "torch"),
    mlp_seeds=lrlab.Int(1, 20), mlp_epochs=lrlab.Int(1, 500), mlp_batch_size=lrlab.Int(1, 2000),
    mlp_base_lr=lrlab.Float(0, 10, low_open=True), mlp_max_lr=lrlab.Float("mlp_base_lr", 10, low_open=True))
FW, MAX_LRS = P.frameworks, P.max_lrs
COUNTER = count_framework if count_framework in FW else FW[0]
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)

STEPS = 2 * step_size_up * cycles
print(f"frameworks: {', '.join(FW)}; the many-start count runs in {COUNTER}; {STEPS} updates per run")

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

# %%
surfaces = {"sharp global": Wells(), "wide global": Wells(depths=(2.0, 0.8, 1.2))}
for label, surface in surfaces.items():
    table = surface.minima().round(4)
    print(f"--- {label} ---")
    print(table.to_string())

fig, ax = plt.subplots(figsize=(8, 3.4))
grid = np.linspace(-5, 5, 801)
for i, (label, surface) in enumerate(surfaces.items()):
    ax.plot(grid, surface.loss(grid), color=f"C{i}", label=label)
    minima = surface.minima()
    ax.plot(minima.w, minima.loss, "o", color=f"C{i}", ms=5)
    best = minima[minima["global"]]
    ax.plot(best.w, best.loss, "*", color=f"C{i}", ms=14)
ax.set(xlabel="w", ylabel="L(w)", title="the two surfaces (dots: minima, stars: global minima)")
ax.legend()
plt.show()

# %% [markdown]
# The two sharp wells can hold a run only below $\eta \approx 0.04$–$0.05$; the wide well holds
# it up to $\eta \approx 0.7$–$1.5$. A triangular cycle from `base_lr` to `max_lr` therefore
# behaves in one of two ways, depending on `max_lr`, and the curvature — not the depth — decides
# which.
#
# ## Started at a minimum: does the cyclical rate leave it?
#
# Each run starts next to one of the three minima of the sharp-global surface (0.01 to its
# right: exactly at a minimum the gradient is zero and even an unstable point would not be left
# until rounding nudged it) and follows the cyclical schedule (`lrlab.schedules.make("cyclic", ...)`, Keras and PyTorch each get
# their native twin of it) for whole cycles, so that it ends at the base rate. We report the
# minimum it ends in ("none" if it ends more than 0.05 from any minimum).

# %%
def cyclic(max_lr):
    return schedules.make("cyclic", base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up, mode="triangular")


def minimum_name(surface, index):
    if index < 0:
        return "none"
    row = surface.minima().iloc[index]
    kind = "global" if row["global"] else ("wide" if row.max_stable_lr > 0.5 else "sharp")
    return f"{row.w:+.2f} ({kind})"


sharp = surfaces["sharp global"]
sharp_minima = sharp.minima()
escape_rows, traces = [], {}
for max_lr in MAX_LRS:
    for name, backend in backends.items():
        for i, w0 in enumerate(sharp_minima.w + 0.01):
            trace = backend.descend(sharp.loss, float(w0), cyclic(max_lr), STEPS)
            traces[name, max_lr, i] = trace
            end = int(sharp.landed(float(trace.w.iloc[-1])))
            escape_rows.append({"max_lr": max_lr, "framework": name, "start": minimum_name(sharp, i),
                                "end": minimum_name(sharp, end), "left": end != i})
escapes = pd.DataFrame(escape_rows)
print(escapes.pivot_table(index=["max_lr", "start"], columns="framework", values="end", aggfunc="first").to_string())
if len(FW) == 2:
    gaps = {key[1:]: float(np.abs(traces["tf", *key[1:]].w.to_numpy(np.float64)
                                  - traces["torch", *key[1:]].w.to_numpy(np.float64)).max())
            for key in traces if key[0] == "tf"}
    same_end = escapes.groupby(["max_lr", "start"])["end"].nunique().eq(1).all()
    gap = max(gaps.values())
    print(f"same end in both frameworks: {bool(same_end)}; largest |w_tf - w_torch| along a run: "
          + ("below 1e-5" if gap < 1e-5 else "above 0.1 (the bouncing phase amplifies float32 rounding)"
             if gap > 0.1 else f"{gap:.0e}"))

# %%
global_index = int(np.flatnonzero(sharp_minima["global"])[0])
fig, (ax_lr, ax_w) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
for j, max_lr in enumerate(MAX_LRS):
    ax_lr.plot(cyclic(max_lr)(np.arange(STEPS)), color=f"C{j}", label=f"max_lr {max_lr:g}")
    for name in backends:
        trace = traces[name, max_lr, global_index]
        ax_w.plot(trace.step, trace.w, color=f"C{j}", ls="-" if name == "tf" else "--",
                  label=f"{name}, max_lr {max_lr:g}")
for w in sharp_minima.w:
    ax_w.axhline(w, color="grey", lw=0.6)
ax_lr.set(ylabel="learning rate", title="runs started next to the (sharp) global minimum")
ax_lr.legend(fontsize=8)
ax_w.set(xlabel="update", ylabel="w (grey: the minima)")
ax_w.legend(fontsize=8, ncol=2)
plt.show()

# %% [markdown]
# With the smaller maximum nothing happens: the rate never gets high enough to make any of the
# three minima unstable, so every run ends where it started — the cycle is harmless and
# useless. With the larger maximum the runs do leave the sharp minima: the rate climbs past
# $2/L''$ of the sharp wells, the iterate starts to bounce, is thrown out, and when the rate
# comes back down it is caught by the one basin that was stable all along, the wide one. That
# includes the run that started at the **global** minimum: the cyclical rate took it *out* of
# the best point of the surface and left it in the worst of the three minima.
#
# While a run bounces, it is chaotic: the last-bit differences between Keras's and PyTorch's
# float32 arithmetic grow until the two trajectories have nothing in common (the largest gap
# printed above). Yet both frameworks end every run in the same minimum. The exact path does not
# matter; which basins can hold the run at the rate it has when the cycle comes down does.
#
# ## Many starting points
#
# A small constant rate ends in the minimum of the basin each start lies in
# (`Wells.basin`: the interval between the two maxima around it). We run the cyclical schedule
# with the larger maximum from `starts` evenly spread points on both surfaces and count, for each
# start basin, where the runs end (the smaller maximum, as the previous section showed, leaves
# every run in its basin). The count runs in one framework (`count_framework`, PyTorch by
# default: Keras's eager single-weight steps are about ten times slower); the previous section
# showed that both frameworks take the runs from the minima to the same places.

# %%
counter = backends[COUNTER]
w0s = np.linspace(-4.5, 4.5, starts)
count_rows = []
for label, surface in surfaces.items():
    minima = surface.minima()
    start_basin = surface.basin(w0s)
    for max_lr in MAX_LRS[-1:]:
        ends = np.array([int(surface.landed(float(counter.descend(surface.loss, float(w0), cyclic(max_lr),
                                                                   STEPS).w.iloc[-1]))) for w0 in w0s])
        for b, e in zip(start_basin, ends):
            count_rows.append({"surface": label, "max_lr": max_lr, "start basin": minimum_name(surface, b),
                               "end": minimum_name(surface, e), "moved": int(b != e),
                               "start in global basin": bool(minima["global"].iloc[b]),
                               "ends at global": bool(e >= 0 and minima["global"].iloc[e])})
counts = pd.DataFrame(count_rows)
print(counts.pivot_table(index=["surface", "start basin"], columns="end", values="moved",
                         aggfunc="size", fill_value=0).to_string())
summary = counts.groupby("surface").agg(
    moved=("moved", "mean"), small_lr_at_global=("start in global basin", "mean"),
    cyclic_at_global=("ends at global", "mean")).round(2)
print()
print(summary.to_string())

# %% [markdown]
# The table reads the same on both surfaces: every run that started in a sharp basin moves, and
# they all move to the same place, the wide well (a few runs that start far out on the bowl have
# not arrived anywhere by the end: "none"). On the surface where the wide well is the global minimum, the cyclical rate indeed
# "finds the global minimum" from every start. On the surface where the global minimum is
# sharp, it finds it from *no* start, fewer than the plain small rate, which at least finds it
# from the starts that lie in its basin.
#
# So the cyclical rate does not search for the deepest point. A large rate filters minima by
# their **width**: it cannot stay where the curvature exceeds $2/\eta$, and the cycle's low
# phase lets it settle in whatever wide basin it is in at the time. Whether that is the global
# minimum is a property of the landscape, not of the schedule. (For networks there is an
# argument that wide minima generalise better — Keskar et al. 2017 — which is one reason large
# rates and cycles can help; it is a different claim from the seed's.)
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
labels = list(mlp_schedules)
finals, curves = [], {}
for name, backend in backends.items():
    for s in range(seed, seed + mlp_seeds):
        history = backend.fit_many(backend.mlp((64, 32, 10), "relu", "softmax", seed=s), data.train, data.val,
                                   optimizer="sgd", loss="categorical_crossentropy", epochs=mlp_epochs,
                                   batch_size=mlp_batch_size, configs=[{"lr": lr} for lr in mlp_schedules.values()],
                                   seed=s)
        for m, label in enumerate(labels):
            curves[name, label, s] = history[history.model == m]
        finals.append(sensitivity.final(history, mlp_epochs, framework=name, seed=s)
                      .assign(schedule=lambda t: [labels[m] for m in t.model]))
mlp = pd.concat(finals, ignore_index=True).rename(columns={"loss": "train loss", "val_loss": "val loss",
                                                         "val_accuracy": "val accuracy"})
mlp_summary = mlp.groupby(["schedule", "framework"], sort=False)[["train loss", "val loss", "val accuracy"]] \
    .agg(["mean", "std"]).round(3)
print(mlp_summary.to_string())
if len(FW) == 2:
    pair = mlp.pivot_table(index=["schedule", "seed"], columns="framework", values="val loss")
    gap = float((pair.tf - pair.torch).abs().max())
    print(f"largest |val loss tf - val loss torch| over all runs: {'below 1e-5' if gap < 1e-5 else f'{gap:.0e}'}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for i, label in enumerate(mlp_schedules):
    history = curves[FW[0], label, seed]
    axes[0].plot(history.epoch, history.lr, color=f"C{i}", label=label)
    for s in range(seed, seed + mlp_seeds):
        h = curves[FW[0], label, s]
        axes[1].semilogy(h.epoch, h.loss, color=f"C{i}", lw=1, label=label if s == seed else None)
axes[0].set(xlabel="epoch", ylabel="LR of the epoch's last update", title="schedules")
axes[1].set(xlabel="epoch", ylabel="training loss (log)", title=f"training loss, {mlp_seeds} seeds ({FW[0]})")
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Verdict
#
# The verdict is computed from the counts: the claim's first half needs runs that started in a
# minimum to leave it; its second half needs the cyclical rate to end at the global minimum more
# often than a small constant rate does — on both surfaces, since the seed states it without
# conditions. The MLP numbers go into the evidence.

# %%
top, low = MAX_LRS[-1], MAX_LRS[0]
sharp_start = ~escapes.start.str.contains("wide")
escaped = escapes[(escapes.max_lr == top) & sharp_start]["left"].mean()
gain = {label: float(summary.loc[label, "cyclic_at_global"] - summary.loc[label, "small_lr_at_global"])
        for label in surfaces}
means = mlp.groupby("schedule", sort=False)[["train loss", "val loss"]].mean()
spread = mlp.groupby("schedule", sort=False)[["train loss", "val loss"]].std().fillna(0.0)
cycle_vs = {label: float(means.loc["triangular cycle", "val loss"] - means.loc[label, "val loss"])
            for label in mlp_schedules if label != "triangular cycle"}
if escaped == 0:
    verdict = "does not hold"
elif all(g > 0 for g in gain.values()):
    verdict = "holds"
elif any(g > 0 for g in gain.values()):
    verdict = "holds with caveats"
else:
    verdict = "does not hold"
mlp_text = "; ".join(f"{label} {means.loc[label, 'val loss']:.3f}±{spread.loc[label, 'val loss']:.3f}"
                     for label in mlp_schedules)
evidence = (f"on a 1-D loss with known minima a cycle {base_lr:g}-{top:g} took {escaped:.0%} of the runs started "
            f"next to a sharp minimum (the global one included) out of it and "
            f"{escapes[(escapes.max_lr == top) & ~sharp_start]['left'].mean():.0%} of those next to the wide one "
            f"(a cycle to {low:g}: {escapes[(escapes.max_lr == low) & sharp_start]['left'].mean():.0%} and "
            f"{escapes[(escapes.max_lr == low) & ~sharp_start]['left'].mean():.0%}); over {starts} starts it ended at the "
            f"global minimum {summary.loc['wide global', 'cyclic_at_global']:.0%} of the time when the global "
            f"minimum is the wide one (small constant LR: {summary.loc['wide global', 'small_lr_at_global']:.0%}) "
            f"and {summary.loc['sharp global', 'cyclic_at_global']:.0%} when it is sharp (small LR: "
            f"{summary.loc['sharp global', 'small_lr_at_global']:.0%})"
            + (": it selects wide minima, not deep ones" if gain["wide global"] > 0 >= gain["sharp global"] else "")
            + "; "
            f"MLP on digits, final val loss over {mlp_seeds} seeds: {mlp_text}")
print(f"C002-2: {verdict} — {evidence}")
lrlab.record("claim:C002-2", {"verdict": verdict, "evidence": evidence})

# %% [markdown]
# A cyclical learning rate does help a run leave a minimum — but only a minimum that is sharper
# than $2/\eta_{\max}$, and it leaves *any* such minimum, the global one included. Where the run
# ends is the widest basin in reach, which is the global minimum only when the landscape happens
# to put the global minimum in the widest basin. "Can find the global minimum" is therefore true
# of some landscapes and false of others. On the MLP the cycle ends about where a cosine decay
# over the same range ends and is no better than the best constant rate; its benefit in Smith's
# experiments was speed of reaching a good accuracy with little tuning, not a search for the
# global minimum.
