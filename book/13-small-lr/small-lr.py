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
# # Does a small learning rate over-fit?
#
# **Seed rows covered:** C004-1 (too large a learning rate overshoots, blows up the gradients
# and makes the loss oscillate; too small a one is slow, "easily over-fits" and gets stuck in
# local optima).
#
# The gradient step chapter settled the optimisation half of this claim on a quadratic. The
# other half is stranger: seed 004 says a small learning rate makes a model over-fit easily.
# Over-fitting is a gap between training and validation loss that grows as the model fits its
# training set. A small rate fits the training set *more slowly*, so at an equal number of
# epochs one expects a smaller gap, not a larger one. The claim can only mean something at equal
# *fit*: does a model trained with a small rate to the same training loss generalise worse than
# one trained with a large rate? There is a real argument for that — the noise of large-rate
# SGD steers it away from sharp minima, a form of implicit regularisation (Keskar et al. 2017;
# Li, Wei & Ma 2019) — so the question is worth measuring.
#
# To make over-fitting possible we give a 64–64–10 MLP only `train_rows` rows of the digits data
# and train it with plain SGD (batches of `batch_size`) for `epochs` epochs at learning rates
# half a decade apart, `repeats` seeds each, in both frameworks; the models of one seed train
# together in one `fit_many` call. We read the training loss (the mean over each epoch's
# batches), the validation loss and their gap epoch by epoch.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first seed (initial weights and batch order)
train_rows: int = 200  # training rows: few, so that the network can over-fit
lrs: str = "0.03,0.1,0.3,1,3,10"  # the learning rates compared
repeats: int = 3  # seeds per learning rate
epochs: int = 200
batch_size: int = 32
equal_epochs: int = 20  # the equal-epochs comparison reads this epoch ...
target_loss: float = 0.1  # ... the equal-fit comparison the first epoch with training loss <= this

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import many
from lrlab.data import digits

P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1), train_rows=lrlab.Int(10, 1077),
    lrs=lrlab.FloatList(0, 100, low_open=True, sort=True), repeats=lrlab.Int(2, 20), epochs=lrlab.Int(2, 5000),
    batch_size=lrlab.Int(1, "train_rows"), equal_epochs=lrlab.Int(1, "epochs"),
    target_loss=lrlab.Float(0, low_open=True))
FW, LRS = P.frameworks, P.lrs
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)

data = digits(seed=0)
train = (data.train[0][:train_rows], data.train[1][:train_rows])
print(f"frameworks: {', '.join(FW)}; {train_rows} training rows, {len(data.val[0])} validation rows; "
      f"learning rates {LRS}; {epochs} epochs of {-(-train_rows // batch_size)} updates")

# %%
histories = {}
for name, backend in backends.items():
    parts = []
    for s in range(seed, seed + repeats):
        history = backend.fit_many(backend.mlp((64, 64, 10), "relu", "softmax", seed=s), train, data.val,
                                   optimizer="sgd", loss="categorical_crossentropy", epochs=epochs,
                                   batch_size=batch_size, configs=many.grid(lr=LRS), seed=s)
        history.attrs = {}
        parts.append(history.assign(seed=s))
    runs = pd.concat(parts, ignore_index=True)
    runs["gap"] = runs.val_loss - runs.loss
    histories[name] = runs
if len(FW) == 2:
    a, b = (histories[f].set_index(["seed", "lr", "epoch"]) for f in ("tf", "torch"))
    both = a.val_loss.to_frame("tf").join(b.val_loss.to_frame("torch"), how="outer")
    final = both.groupby(level=["seed", "lr"]).tail(1)
    gap = (final.tf - final.torch).abs()
    print(f"tf vs torch: same number of epochs for every run: {bool(both.notna().all().all())}; final val loss "
          f"agrees to 1e-3 for {int((gap <= 1e-3).sum())} of {len(gap)} runs; learning rates of the others: "
          f"{sorted(set(float(lr) for _, lr in gap[gap > 1e-3].index))}")
name = FW[-1]
runs = histories[name]

# %% [markdown]
# ## Too large, too small
#
# First the optimisation half. At the largest rates the network breaks down — the loss goes back
# to chance ($\ln 10 \approx 2.30$) or becomes NaN (a run that did is marked diverged and stops) —
# and just below that the training loss no longer falls steadily: we count the epochs in which it
# rose. At the smallest rate the training loss after `equal_epochs` epochs is far from the others.

# %%
rows = []
for lr, part in runs.groupby("lr"):
    per_seed = []
    for s, run_ in part.groupby("seed"):
        loss = run_.loss.to_numpy()
        per_seed.append({"diverged": bool((run_.status == "diverged").any()),
                         "final train loss": loss[-1] if run_.status.iloc[-1] == "ok" else np.inf,
                         f"train loss at epoch {equal_epochs}": loss[equal_epochs - 1] if len(loss) >= equal_epochs
                         else np.inf,
                         "epochs with rising train loss": float(np.mean(np.diff(loss[5:]) > 0)) if len(loss) > 6
                         else np.nan})
    per_seed = pd.DataFrame(per_seed)
    rows.append({"lr": lr, "runs diverged": int(per_seed.diverged.sum()),
                 **per_seed.drop(columns="diverged").mean().to_dict()})
regimes = pd.DataFrame(rows)
print(f"{name}, mean over {repeats} seeds:")
print(regimes.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %% [markdown]
# ## The gap at equal epochs and at equal fit
#
# At equal epochs we read every run at epoch `equal_epochs`. At equal fit we read each run at the
# first epoch whose training loss is at most `target_loss`, if it gets there; and, as a third
# view that needs no target, the lowest validation loss a run reaches at any epoch (what early
# stopping would keep).

# %%
def at_equal_fit(run_):
    hit = run_[(run_.loss <= target_loss) & (run_.status == "ok")]
    row = hit.iloc[0] if len(hit) else None
    return pd.Series({"epochs to target": row.epoch + 1 if row is not None else np.nan,
                      "val loss at target": row.val_loss if row is not None else np.nan,
                      "gap at target": row.gap if row is not None else np.nan,
                      "best val loss": run_.val_loss.min()})


trainable = [lr for lr in LRS if regimes.set_index("lr").loc[lr, "final train loss"] < 0.5 * np.log(10)]
per_run = []
for (lr, s), run_ in runs[runs.lr.isin(trainable)].groupby(["lr", "seed"]):
    at = run_[run_.epoch == equal_epochs - 1].iloc[0]
    per_run.append({"lr": lr, "seed": s, f"train loss @{equal_epochs}": at.loss, f"val loss @{equal_epochs}": at.val_loss,
                    f"gap @{equal_epochs}": at.gap, **at_equal_fit(run_).to_dict()})
per_run = pd.DataFrame(per_run)
view = per_run.drop(columns="seed").groupby("lr").agg(["mean", "std"])
print(f"{name}: mean over {repeats} seeds")
print(view.xs("mean", axis=1, level=1).to_string(float_format=lambda v: f"{v:.3f}"))
print("standard deviations:")
print(view.xs("std", axis=1, level=1).to_string(float_format=lambda v: f"{v:.3f}"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for i, lr in enumerate(trainable):
    part = runs[runs.lr == lr].groupby("epoch")[["loss", "val_loss", "gap"]].mean()
    axes[0].semilogy(part.index + 1, part.loss, color=f"C{i}", ls="--", lw=1)
    axes[0].semilogy(part.index + 1, part.val_loss, color=f"C{i}", label=f"lr {lr:g}")
    axes[1].plot(part.loss, part.gap, color=f"C{i}", label=f"lr {lr:g}")
axes[0].axvline(equal_epochs, color="grey", ls=":", lw=1)
axes[0].set(xlabel="epoch", ylabel="loss (dashed: train, solid: val)", title=f"mean of {repeats} seeds ({name})")
axes[1].axvline(target_loss, color="grey", ls=":", lw=1)
axes[1].set(xscale="log", xlabel="training loss (log, falling as training goes on →)", ylabel="val loss − train loss",
            title="the gap against the fit reached")
axes[1].invert_xaxis()
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# Plotted against the epoch, the small learning rates look *less* over-fitted: their gap is
# smaller at any given epoch, because they have fitted less. Plotted against the training loss
# they have reached, the small rates' curves fall on top of each other, and the largest rate's
# lies *above* them: at equal fit a small rate's gap is no larger than a large rate's — if
# anything the large rate, whose validation loss still jumps from step to step, is the one that
# generalises a little worse at that point. The best validation loss over the run is about the
# same for every rate that trains long enough. The small rate does not over-fit more; it gets to
# the same place later.

# %% [markdown]
# ## Verdict
#
# Four parts, each from the tables above: the largest rates break training (loss at chance or
# NaN); the largest trainable rate's training loss rises in more epochs than the smallest rate's
# (oscillation); the smallest rate is behind at equal epochs (slow); and, among the rates whose
# every seed reaches the target fit, the smallest has a larger gap there than the largest, by
# more than twice the seeds' spread (over-fitting). All four: "holds"; all but over-fitting: "holds with caveats".
# (Getting stuck in a local optimum is the cyclic-learning-rate chapter's subject: there a small
# rate indeed stays in whatever basin it starts in.)

# %%
r = regimes.set_index("lr")
broken = [lr for lr in LRS if lr not in trainable]
breaks = len(broken) > 0 and all(lr > max(trainable) for lr in broken)
oscillates = r.loc[max(trainable), "epochs with rising train loss"] > r.loc[min(trainable), "epochs with rising train loss"]
slow = r.loc[min(trainable), f"train loss at epoch {equal_epochs}"] > 2 * r.loc[trainable, f"train loss at epoch {equal_epochs}"].min()
all_seeds = per_run.groupby("lr")["gap at target"].count() == repeats  # every seed reached the target
reached = view.xs("mean", axis=1, level=1)["gap at target"][all_seeds]
spread = view.xs("std", axis=1, level=1)["gap at target"][all_seeds]
if len(reached) >= 2:
    lo, hi = reached.index.min(), reached.index.max()
    overfits = reached[lo] > reached[hi] + 2 * float(np.hypot(spread[lo], spread[hi]))
else:
    lo = hi = None
    overfits = False
parts = [breaks, oscillates, slow]
verdict = ("holds" if all(parts) and overfits else "holds with caveats" if any(parts) else "does not hold")
m = view.xs("mean", axis=1, level=1)
evidence = (f"{name}, MLP on {train_rows} digits rows, SGD, {repeats} seeds: LRs {broken} break training (loss at chance "
            f"or NaN); train loss rises in {r.loc[max(trainable), 'epochs with rising train loss']:.0%} of epochs at LR "
            f"{max(trainable):g} vs {r.loc[min(trainable), 'epochs with rising train loss']:.0%} at {min(trainable):g}; "
            f"after {equal_epochs} epochs train loss {r.loc[min(trainable), f'train loss at epoch {equal_epochs}']:.2f} at LR "
            f"{min(trainable):g} vs {r.loc[trainable, f'train loss at epoch {equal_epochs}'].min():.3f} at best, with gap "
            f"{m.loc[min(trainable), f'gap @{equal_epochs}']:.3f} vs {m.loc[max(trainable), f'gap @{equal_epochs}']:.3f} at LR "
            f"{max(trainable):g}; at equal training loss {target_loss:g} the gap is "
            + (f"{reached[lo]:.3f}±{spread[lo]:.3f} at LR {lo:g} vs {reached[hi]:.3f}±{spread[hi]:.3f} at LR {hi:g}"
               if lo is not None else "not reached by two rates")
            + f"; best val loss over the run {m['best val loss'].min():.3f}-{m['best val loss'].max():.3f} across LRs "
            f"{trainable}")
print(f"C004-1: {verdict} — {evidence}")
lrlab.record("claim:C004-1", {"verdict": verdict, "evidence": evidence})

# %% [markdown]
# Seed 004's description of a too-large rate is right, and so is "slow" for a too-small one. Its
# claim that a small rate "easily over-fits" does not survive: at equal epochs a small rate
# over-fits *less*, because it has fitted less; at equal fit it over-fits about as much as a
# large one. What a small rate costs is time, and, with a fixed budget of epochs, an
# under-trained model.
