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
# # Batch size and the learning rate
#
# **Seed rows covered:** C000-2 (batch size and learning rate interact — first "larger batches
# allow a larger learning rate", then "when the batch grows you may need to *lower* the learning
# rate"), C000-3 (very large batches can converge to worse solutions and cost memory) and the
# batch-size half of C003-2 (a higher learning rate may want a smaller batch).
#
# Seed 000 says two opposite things in one paragraph. The literature has a precise version of
# the first: Goyal et al. (2017) trained ImageNet with batches of 8192 by the **linear scaling
# rule** — multiply the learning rate by $k$ when the batch grows $k$-fold — plus a gradual
# warmup over the first epochs, and matched the small-batch accuracy. The argument is simple:
# $k$ small-batch steps move the weights by about $\eta \sum_{i=1}^{k} g_i$, one large-batch
# step by $\eta' \bar g$ with $\bar g$ the mean of the same gradients; the two agree when
# $\eta' = k\eta$, as long as the gradients change little over those $k$ steps. The rule must
# fail when $k\eta$ exceeds what the curvature of the loss allows — the limit of the gradient
# step chapter.
#
# We measure, on a 64–32–10 MLP trained with plain SGD on the digits data (60/20/20 split):
#
# 1. a heat map of the final validation loss over learning rate × batch size, at an equal number
#    of epochs (equal data, equal computation), with several seeds;
# 2. the linear scaling rule with and without warmup, against keeping the learning rate and
#    against the seed's "lower it";
# 3. the generalisation gap of large batches, at equal epochs and at equal training loss.
#
# Every point trains in both frameworks; the models of one batch size and seed train together
# in one `fit_many` call (M models as one batched computation, each equal to its own `fit` up to
# float rounding — one batch size per call, so we loop over batch sizes).

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first seed (initial weights and batch order)
batch_sizes: str = "4,16,64,256,1024"  # the heat map's batch sizes, comma-separated
lr_min_exp: float = -2.0  # learning rates 10**e, e from lr_min_exp ...
lr_max_exp: float = 1.0  # ... to lr_max_exp in quarter decades
repeats: int = 3  # seeds per point
epochs: int = 10  # epochs of every heat-map and scaling run
base_batch: int = 4  # the linear scaling rule starts from this batch size ...
scale_factors: str = "4,16,64"  # ... and grows it by these factors
warmup_epochs: int = 2  # linear warmup from the base LR to the scaled LR over this many epochs
target_loss: float = 0.05  # the equal-training-loss comparison stops each run at this training loss
max_epochs: int = 240  # epochs the largest batch gets to get there; batch b gets max_epochs·b/largest (>= 2·epochs)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import many, schedules, sensitivity
from lrlab.data import digits

P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1),
    batch_sizes=lrlab.IntList(1, 10_000, sort=True), lr_min_exp=lrlab.Float(-8, 2),
    lr_max_exp=lrlab.Float("lr_min_exp", 2), repeats=lrlab.Int(1, 20), epochs=lrlab.Int(1, 1000),
    base_batch=lrlab.Int(1, 10_000), scale_factors=lrlab.IntList(2, 10_000, sort=True),
    warmup_epochs=lrlab.Int(1, "epochs"), target_loss=lrlab.Float(0, low_open=True), max_epochs=lrlab.Int(1, 10_000))
FW, BATCHES, FACTORS = P.frameworks, P.batch_sizes, P.scale_factors
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)

data = digits(seed=0)
N = len(data.train[0])
LRS = 10.0 ** np.arange(lr_min_exp, lr_max_exp + 1e-9, 0.25)
SEEDS = range(seed, seed + repeats)
print(f"frameworks: {', '.join(FW)}; {N} training rows; batch sizes {BATCHES} (updates per epoch: "
      f"{[-(-N // b) for b in BATCHES]}); {len(LRS)} learning rates from {LRS[0]:g} to {LRS[-1]:g}")


def train(backend, batch, configs, s, n_epochs=None):
    """One fit_many call: the MLP of seed s, SGD, every configuration at this batch size."""
    return backend.fit_many(backend.mlp((64, 32, 10), "relu", "softmax", seed=s), data.train, data.val,
                            optimizer="sgd", loss="categorical_crossentropy", epochs=n_epochs or epochs,
                            batch_size=batch, configs=configs, seed=s)


# %% [markdown]
# ## Learning rate × batch size
#
# Each cell is the mean final validation loss over the seeds after `epochs` epochs; the marked
# cell in each column is the best learning rate for that batch size.

# %%
heat = {}
for name, backend in backends.items():
    parts = [sensitivity.final(train(backend, b, many.grid(lr=list(LRS)), s), epochs, batch=b, seed=s)
             for b in BATCHES for s in SEEDS]
    heat[name] = pd.concat(parts, ignore_index=True)
if len(FW) == 2:
    a, b = heat["tf"], heat["torch"]
    gap = (a.val_loss - b.val_loss).abs()
    edge = a.lr >= a.batch.map(sensitivity.spread(b, ["batch", "lr"], "val_loss").set_index("lr")
                                 .groupby("batch")["mean"].idxmin())
    print(f"tf vs torch: runs whose final val loss agrees to 1e-4: {int((gap <= 1e-4).sum())} of {len(gap)}; all "
          f"others at or above the best learning rate of their batch size, near breakdown: "
          f"{bool(edge[~(gap <= 1e-4)].all())}")

name = FW[-1]
cells = sensitivity.spread(heat[name], ["batch", "lr"], "val_loss")
means = sensitivity.heatmap_table(cells, "lr", "batch")
spreads = sensitivity.heatmap_table(cells, "lr", "batch", "std")
best_lr = means.idxmin()
best_batch = means.idxmin(axis=1)
print(f"{name}: mean final val loss ({repeats} seeds), learning rates down, batch sizes across")
print(means.to_string(float_format=lambda v: f"{v:.3f}"))
print("\nbest learning rate per batch size:", {int(b): float(f"{lr:.3g}") for b, lr in best_lr.items()})
print(f"largest seed standard deviation in a cell whose mean is below 0.5: "
      f"{float(spreads[means < 0.5].max().max()):.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 5))
shown = np.log10(np.minimum(means.to_numpy(), 3.0))
image = ax.imshow(shown, aspect="auto", origin="lower", cmap="viridis_r")
ax.set_xticks(range(len(means.columns)), [str(b) for b in means.columns])
ax.set_yticks(range(len(means.index)), [f"{lr:.3g}" for lr in means.index])
for j, b in enumerate(means.columns):
    i = list(means.index).index(best_lr[b])
    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2))
    for k, lr in enumerate(means.index):
        value = means.loc[lr, b]
        ax.text(j, k, "div" if not np.isfinite(value) else f"{value:.2f}", ha="center", va="center", fontsize=6,
                color="white" if value < 0.6 else "black")
ax.set(xlabel="batch size", ylabel="learning rate", title=f"final val loss after {epochs} epochs ({name}; red: best)")
fig.colorbar(image, ax=ax, label="log10 val loss (capped at 3)")
plt.show()

# %% [markdown]
# Read the columns first. The best learning rate grows with the batch size — a batch four times
# larger wants a learning rate a few times larger — until it reaches a ceiling a little above 1,
# where every batch size breaks down at once: that ceiling is the curvature of the loss, which
# does not depend on the batch. Read the rows next: at a small learning rate the smallest batch
# is best (it makes the most updates in the same epochs); at the largest learning rates that
# still train, the small batches break down first, because their noisier steps reach the
# unstable region sooner. The best batch size grows with the learning rate — the opposite of
# "a higher learning rate may want a smaller batch".
#
# ## The linear scaling rule, with and without warmup
#
# Start from `base_batch` at its best learning rate $\eta$ from the heat map and grow the batch
# $k$-fold. We compare four choices, each at `epochs` epochs and over the seeds: keep $\eta$;
# the linear scaling rule $k\eta$; $k\eta$ after a linear warmup from $\eta$ over
# `warmup_epochs` epochs (Goyal et al. warm up over five of their 90 epochs); and the seed's
# advice to lower the rate, here $\eta/2$. The heat map's best learning rate for each batch
# size is the reference.

# %%
scaling_rows, base_lr = [], {}
for name, backend in backends.items():
    eta = base_lr[name] = float(sensitivity.heatmap_table(sensitivity.spread(heat[name], ["batch", "lr"], "val_loss"),
                                          "lr", "batch").idxmin()[base_batch])
    for k in FACTORS:
        batch = base_batch * k
        steps = -(-N // batch)
        choices = {"keep lr": eta, "linear k·lr": k * eta,
                   "linear + warmup": schedules.make("warmup", after=schedules.make("constant", lr=k * eta),
                                                     warmup_steps=warmup_epochs * steps, start_lr=eta),
                   "lower: lr/2": eta / 2}
        for s in SEEDS:
            history = train(backend, batch, [{"lr": lr} for lr in choices.values()], s)
            result = sensitivity.final(history, epochs, seed=s)
            for m, label in enumerate(choices):
                scaling_rows.append({"framework": name, "k": k, "batch": batch, "base lr": eta, "choice": label,
                                     "seed": s, "val loss": result.val_loss.iloc[m]})
scaling = pd.DataFrame(scaling_rows)
summary = scaling.groupby(["framework", "k", "batch", "choice"], sort=False)["val loss"].agg(["mean", "std"])
table = summary["mean"].unstack("choice")
table["heat-map best"] = [float(sensitivity.spread(heat[f], ["batch", "lr"], "val_loss")
                                .groupby("batch")["mean"].min().get(b, np.nan)) for f, _, b in table.index]
print(f"base batch {base_batch}; mean final val loss over {repeats} seeds (inf: diverged)")
print(table.to_string(float_format=lambda v: f"{v:.3f}"))
print("largest seed standard deviation among the finite means:",
      f"{float(summary['std'][np.isfinite(summary['mean'])].max()):.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
view = table.xs(FW[-1], level="framework").reset_index()
styles = {"keep lr": "s-", "linear k·lr": "o-", "linear + warmup": "^--", "lower: lr/2": "v-", "heat-map best": "k:"}
for column, style in styles.items():
    ax.semilogx(view.batch, np.minimum(view[column], 3.0), style, label=column)
ax.set_xticks(view.batch, [str(b) for b in view.batch])
ax.minorticks_off()
ax.set(xlabel=f"batch size (base {base_batch})", ylabel="final val loss (capped at 3)",
       title=f"scaling the learning rate with the batch ({FW[-1]}, mean of {repeats} seeds)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The linear scaling rule works for the first step up and then runs into the ceiling: $k\eta$
# soon exceeds the largest rate the loss tolerates, and the network breaks down (its ReLUs die and
# the loss returns to chance). A warmup cannot help there: it protects the first updates, but
# the scaled rate is too large for the whole run, not only for its start. Goyal et al. reached
# batch 8192 because their base rate was far below the ceiling; they also report that the rule
# breaks down beyond that size. Lowering the learning rate, as the seed suggests, is worse than
# keeping it at every $k$ in this range: a larger batch makes fewer updates per epoch, and a
# smaller rate makes each of them smaller still.
#
# ## The generalisation gap
#
# Keskar et al. (2017) reported that large batches generalise worse and tied it to sharp
# minima; Hoffer et al. (2017) answered that large batches are mostly *under-trained* at equal
# epochs and that the gap closes when they make enough updates. We train every batch size at its
# best learning rate from the heat map — the largest batch for up to `max_epochs` epochs, smaller
# ones for proportionally fewer (never fewer than twice `epochs`) — (the seeds' initial weights
# train together in one call per batch size, sharing the batch order of `seed`) and read the
# validation loss and accuracy at the first epoch whose training loss is at most `target_loss`;
# next to it, the same quantities after the heat map's `epochs` epochs.

# %%
gap_rows = []
for name, backend in backends.items():
    best = sensitivity.heatmap_table(sensitivity.spread(heat[name], ["batch", "lr"], "val_loss"), "lr",
                                     "batch").idxmin()
    for batch in BATCHES:
        lr = float(best[batch])
        budget = min(max_epochs, max(2 * epochs, -(-max_epochs * batch // BATCHES[-1])))
        history = train(backend, batch, many.grid(lr=[lr], init_seed=list(SEEDS)), seed, n_epochs=budget)
        configs = history.attrs["configs"].set_index("model")
        for m, run in history.groupby("model"):
            at = run[run.loss <= target_loss]
            short = run[run.epoch == epochs - 1]
            reached = len(at) > 0
            row = at.iloc[0] if reached else run.iloc[-1]
            gap_rows.append({"framework": name, "batch": batch, "lr": lr, "seed": int(configs.init_seed[m]),
                             "epochs to target": int(row.epoch) + 1 if reached else np.nan,
                             "updates to target": (int(row.epoch) + 1) * -(-N // batch) if reached else np.nan,
                             "train loss": row.loss, "val loss": row.val_loss, "val accuracy": row.val_accuracy,
                             "gap": row.val_loss - row.loss,
                             f"val loss after {epochs} epochs": float(short.val_loss.iloc[0]) if len(short) else np.nan})
gaps = pd.DataFrame(gap_rows)
gap_summary = gaps.groupby(["framework", "batch"]).agg(["mean", "std"])
columns = ["epochs to target", "updates to target", "val loss", "val accuracy", "gap", f"val loss after {epochs} epochs"]
print(f"at the first epoch with training loss <= {target_loss:g} (mean ± std over {repeats} seeds):")
print(gap_summary[columns].xs("mean", axis=1, level=1).to_string(float_format=lambda v: f"{v:.3f}"))
print("standard deviations:")
print(gap_summary[columns].xs("std", axis=1, level=1).to_string(float_format=lambda v: f"{v:.3f}"))
print("every run reached the target:", bool(gaps["epochs to target"].notna().all()))

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for i, name in enumerate(FW):
    view = gaps[gaps.framework == name].groupby("batch")
    ax.errorbar(view["val loss"].mean().index, view["val loss"].mean(), yerr=view["val loss"].std(), fmt="o-",
                color=f"C{i}", capsize=3, label=f"{name}: at training loss {target_loss:g}")
    ax.errorbar(view[f"val loss after {epochs} epochs"].mean().index, view[f"val loss after {epochs} epochs"].mean(),
                yerr=view[f"val loss after {epochs} epochs"].std(), fmt="s--", color=f"C{i}", capsize=3, alpha=0.6,
                label=f"{name}: after {epochs} epochs")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set(xlabel="batch size (each at its best learning rate)", ylabel="val loss (mean ± std over seeds)",
       title="large batches: under-trained at equal epochs, or worse at equal fit?")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# After equal epochs the largest batch is far behind — it has made a few dozen updates where the
# smallest made thousands. Trained to the same training loss, it is not worse: the validation
# loss at equal fit is no higher for the large batches — if anything a little lower. On this problem the
# "generalisation gap" of large batches is an optimisation budget, as Hoffer et al. argued; it
# costs the large batch more epochs (though far fewer updates). The memory half of C000-3 needs
# no experiment: activations and their gradients are stored for every example of a batch, so
# that part of the memory grows in proportion to the batch size (for this MLP, about 150 floats
# per example) — real, but a matter for the framework's profiler, not for this experiment.

# %% [markdown]
# ## Verdicts
#
# Computed from the tables above (the last framework run; with both, PyTorch — the two agree
# to float rounding wherever training is stable):
#
# * **C000-2** — the first statement holds if the heat map's best learning rate rises with the
#   batch size (rank correlation above 0.5) and is larger at the largest batch than at the
#   smallest; the second ("lower
#   the rate") holds only if $\eta/2$ beats keeping $\eta$ for most scale factors. One holding and
#   the other not is "holds with caveats" (the seed contradicts itself).
# * **C000-3** — "holds" if, at equal training loss, the largest batch's validation loss exceeds
#   the smallest's by more than twice the seeds' spread; "holds with caveats" if it is worse only
#   at equal epochs; else "does not hold".
# * **C003-2 (batch part)** — holds if the best batch size at the largest learning rate that
#   still trains is smaller than at the smallest learning rate.

# %%
name = FW[-1]
order = [float(best_lr[b]) for b in BATCHES]
trend = float(np.corrcoef(pd.Series(BATCHES).rank(), pd.Series(order).rank())[0, 1])  # Spearman's rank correlation
larger_ok = trend > 0.5 and order[-1] > order[0]
view = table.xs(name, level="framework")
lower_wins = int((view["lower: lr/2"] < view["keep lr"]).sum())
lower_ok = lower_wins > len(FACTORS) / 2
linear_ok = view["linear k·lr"] <= view["keep lr"]
c000_2 = "holds" if larger_ok and lower_ok else "does not hold" if not (larger_ok or lower_ok) else "holds with caveats"
evidence_2 = (f"{name}, {repeats} seeds, SGD on digits, {epochs} epochs: best LR per batch "
              f"{dict(zip(BATCHES, [float(f'{v:.3g}') for v in order]))} (rank correlation {trend:.2f}); from batch {base_batch} (LR "
              f"{base_lr[name]:.3g}) the linear rule beats keeping the LR for k = "
              f"{[int(k) for k, ok in zip(FACTORS, linear_ok) if ok]}, not for k = "
              f"{[int(k) for k, ok in zip(FACTORS, linear_ok) if not ok]} (val loss "
              + ", ".join(f"k={k}: {v:.2f}" for k, v in zip(FACTORS, view['linear k·lr'])) + "; with warmup "
              + ", ".join(f"{v:.2f}" for v in view["linear + warmup"]) + "); halving the LR beat keeping it for "
              f"{lower_wins} of {len(FACTORS)} factors")
print(f"C000-2: {c000_2} — {evidence_2}")
lrlab.record("claim:C000-2", {"verdict": c000_2, "evidence": evidence_2})

g = gaps[gaps.framework == name].groupby("batch")
small, large = BATCHES[0], BATCHES[-1]
noise = float(np.sqrt((g["val loss"].std() ** 2).mean()))
equal_fit = float(g["val loss"].mean()[large] - g["val loss"].mean()[small])
equal_epochs = float(g[f"val loss after {epochs} epochs"].mean()[large] - g[f"val loss after {epochs} epochs"].mean()[small])
c000_3 = ("holds" if equal_fit > 2 * noise else "holds with caveats" if equal_epochs > 2 * noise
          else "does not hold")
evidence_3 = (f"{name}, {repeats} seeds, each batch at its best LR: after {epochs} epochs val loss "
              f"{g[f'val loss after {epochs} epochs'].mean()[small]:.3f} (batch {small}) vs "
              f"{g[f'val loss after {epochs} epochs'].mean()[large]:.3f} (batch {large}); at equal training loss "
              f"{target_loss:g}: {g['val loss'].mean()[small]:.3f} vs {g['val loss'].mean()[large]:.3f} "
              f"(difference {equal_fit:+.3f}, seed spread {noise:.3f}), reached after "
              f"{g['updates to target'].mean()[small]:.0f} vs {g['updates to target'].mean()[large]:.0f} updates; "
              f"activation memory grows linearly with the batch (not measured)")
print(f"C000-3: {c000_3} — {evidence_3}")
lrlab.record("claim:C000-3", {"verdict": c000_3, "evidence": evidence_3})

trainable = [lr for lr in means.index if means.loc[lr].min() <= 0.5]
low_lr, high_lr = min(trainable), max(trainable)
c003_2 = "holds" if best_batch[high_lr] < best_batch[low_lr] else "does not hold"
evidence_c = (f"{name}, {repeats} seeds, {epochs} epochs: the best batch size is {int(best_batch[low_lr])} at LR "
              f"{low_lr:.3g} and {int(best_batch[high_lr])} at LR {high_lr:.3g}, the largest LR that still trains "
              f"(best batch per LR: " + ", ".join(f"{lr:.3g}: {int(best_batch[lr])}" for lr in trainable) + ")")
print(f"C003-2 (batch part): {c003_2} — {evidence_c}")
lrlab.record("claim:C003-2", {"verdict": c003_2, "evidence": "higher LR, smaller batch? " + evidence_c})

# %% [markdown]
# The seed's first statement is the useful one, with a limit it does not mention: a larger batch
# takes a larger learning rate, roughly in proportion at first (the linear scaling rule), until
# the rate reaches the ceiling set by the curvature of the loss — beyond it, neither scaling nor
# warmup helps, and the extra batch buys nothing at equal epochs. Its second statement, to lower
# the rate as the batch grows, is the wrong direction at every batch size we tried; it is right
# only in the narrow sense that a rate already *at* the ceiling must not be scaled further. Large
# batches end worse after equal epochs, but not at equal training loss, so "converge to worse
# solutions" describes the budget, not the solution. And a higher learning rate wants a *larger*
# batch, not a smaller one: the batch's averaging is what keeps a large step stable.
