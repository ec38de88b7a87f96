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
# # Which hyperparameters matter? Weight decay, Adam's betas and the learning rate
#
# **Seed rows covered:** C003-1 (the learning rate and the batch size are the key
# hyperparameters; the strength of L1/L2 regularisation and Adam's β1 and β2 matter too) and the
# regularisation half of C003-2 (a high learning rate combined with strong regularisation can
# hurt).
#
# Seed 003 ranks hyperparameters without measuring them. We measure a ranking the simplest
# way: start from a good configuration of Adam on the book's MLP and digits data, move one
# hyperparameter at a time across the range a practitioner would try, and see how much the
# final validation loss moves — against how much it moves between seeds, which is the floor
# below which a hyperparameter "does not matter". Then the interaction the seed warns about: a
# heat map of weight decay × learning rate for SGD, where decoupled weight decay shrinks every
# weight by $1 - \eta\lambda$ per step, so the two multiply.
#
# L1 regularisation sits beside L2: lrlab's `fit_many` offers weight decay as an optimizer option
# in both frameworks but no penalty in the loss, so the L1 (and, for comparison, L2) penalty in
# the loss is trained by hand in numpy ({py:mod}`lrlab.penalties`: the same MLP, initial weights,
# batches and Adam step as `fit_many`, checked equal to it without a penalty).
#
# ## The claim's parts and their decision rules
#
# Fixed before any number. A sweep's *effect* is how far the final validation loss (categorical
# cross-entropy, nats) moves across its range: per seed, the loss at the sweep's worst point minus
# the loss at its best point (points chosen by the mean over seeds), then the mean over seeds; the
# noise is the standard deviation of that difference over seeds. A run whose loss exceeds 1 has
# broken down (how far above depends on the CPU), so each seed's loss is capped at 1. As
# everywhere ({py:mod}`lrlab.verdicts`), an effect within twice its noise of zero is
# *inconclusive*, and the table says whether the word survives the threshold moved by ±50 %.
#
# * **C003-1a** — *the learning rate and the batch size matter most*: effect = the smaller of
#   their two effects minus the largest effect of weight decay, β1 and β2, per seed; holds at
#   $0.05$ or more.
# * **C003-1b** — *the strength of L1/L2 regularisation matters*: it matters if its effect is at
#   least $0.02$ (a sixth of the best loss here). In each framework: AdamW's decoupled weight
#   decay over `decays`. Framework-free (numpy): an L1 and an L2 penalty in the loss over `l1s`
#   and `l2s`; *holds only when* names the penalty that matters.
# * **C003-1c** — *Adam's β1 and β2 matter*: the same threshold ($0.02$) for each over `beta1s`
#   and `beta2s`; *holds only when* names the one that matters.
# * **C003-2b** — *a high learning rate together with strong regularisation can hurt*: in the SGD
#   heat map, the damage of the first decay of at least $0.01$ (its loss minus the undecayed loss)
#   at the largest learning rate that trains (undecayed mean at most $0.5$) minus its damage at
#   the smallest; holds at $0.05$ or more.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first seed (initial weights and batch order)
repeats: int = 5  # seeds per point
epochs: int = 10
batch_size: int = 64  # the base configuration's batch size
adam_lrs: str = "0.0001,0.0003,0.001,0.003,0.01,0.03,0.1"  # the learning-rate range of the one-at-a-time sweep
batch_sizes: str = "16,64,256,1024"  # its batch-size range
decays: str = "0,0.001,0.01,0.1,1"  # its AdamW weight-decay range
beta1s: str = "0,0.5,0.9,0.99"  # its beta_1 range
beta2s: str = "0.9,0.99,0.999,0.9999"  # its beta_2 range
sgd_lr_min_exp: float = -2.0  # the heat map's SGD learning rates 10**e, half a decade apart ...
sgd_lr_max_exp: float = 0.5  # ... up to this
sgd_decays: str = "0,0.0001,0.001,0.01,0.03,0.1,0.3"  # the heat map's weight decays
l1s: str = "0,0.00001,0.0001,0.001,0.01"  # L1 penalties in the loss (numpy, Adam at the base learning rate)
l2s: str = "0,0.0001,0.001,0.01,0.1"  # L2 penalties in the loss, the same way

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import many, part_verdicts, penalties, plots, sensitivity
from lrlab.data import digits

plots.setup()  # the book's figures, whatever the caller's matplotlib settings
P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1), repeats=lrlab.Int(2, 20),
    epochs=lrlab.Int(1, 1000), batch_size=lrlab.Int(1, 2000), adam_lrs=lrlab.FloatList(0, 10, sort=True),
    batch_sizes=lrlab.IntList(1, 10_000), decays=lrlab.FloatList(0, sort=True),
    beta1s=lrlab.FloatList(0, 1, high_open=True, sort=True), beta2s=lrlab.FloatList(0, 1, high_open=True, sort=True),
    sgd_lr_min_exp=lrlab.Float(-8, 2), sgd_lr_max_exp=lrlab.Float("sgd_lr_min_exp", 2),
    sgd_decays=lrlab.FloatList(0, sort=True), l1s=lrlab.FloatList(0, sort=True), l2s=lrlab.FloatList(0, sort=True))
FW, ADAM_LRS, BATCHES, DECAYS, BETA1S, BETA2S, SGD_DECAYS = (
    P.frameworks, P.adam_lrs, P.batch_sizes, P.decays, P.beta1s, P.beta2s, P.sgd_decays)
L1S, L2S = P.l1s, P.l2s
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)

started = time.perf_counter()
data = digits(seed=0)
FAILED_ABOVE = 1.0  # a final val loss above this marks a run near breakdown; each seed's loss is capped there
SCOPE = f"digits (1077 training rows), 64-32-10 ReLU MLP, float64, {epochs} epochs, batch {batch_size} unless swept"
SEEDS = list(range(seed, seed + repeats))
SGD_LRS = 10.0 ** np.arange(sgd_lr_min_exp, sgd_lr_max_exp + 1e-9, 0.5)
print(f"frameworks: {', '.join(FW)}; {repeats} seeds; Adam learning rates {ADAM_LRS}")


def run(backend, optimizer, configs, s, batch=None, n_epochs=None, **labels):
    """One fit_many call of the 64-32-10 MLP (seed s): where each configuration ended."""
    history = backend.fit_many(backend.mlp((64, 32, 10), "relu", "softmax", seed=s), data.train, data.val,
                               optimizer=optimizer, loss="categorical_crossentropy", epochs=n_epochs or epochs,
                               batch_size=batch or batch_size, configs=configs, seed=s)
    return sensitivity.final(history, n_epochs or epochs, seed=s, **labels)


# %% [markdown]
# ## One hyperparameter at a time
#
# The base configuration is Adam (`beta_1=0.9, beta_2=0.999, epsilon=1e-8`, no weight decay) at batch
# `batch_size` and the learning rate that is best in the first sweep. Each of the other sweeps
# changes one thing: the batch size, AdamW's weight decay, β1 or β2. Each point is `repeats`
# seeds; for the batch sizes, whose models cannot share a `fit_many` call, the seeds' initial
# weights share one call and one batch order per batch size.

# %%
sweeps = {}
for name, backend in backends.items():
    lr_part = pd.concat([run(backend, "adam", many.grid(lr=ADAM_LRS), s) for s in SEEDS], ignore_index=True)
    base_lr = float(sensitivity.spread(lr_part, "lr", "val_loss").set_index("lr")["mean"].idxmin())
    parts = [lr_part.assign(hyperparameter="learning rate", value=lr_part.lr)]
    for s in SEEDS:
        betas = run(backend, "adam", [{"lr": base_lr, "beta_1": b} for b in BETA1S]
                    + [{"lr": base_lr, "beta_2": b} for b in BETA2S], s)
        parts.append(betas.iloc[:len(BETA1S)].assign(hyperparameter="beta_1", value=BETA1S))
        parts.append(betas.iloc[len(BETA1S):].assign(hyperparameter="beta_2", value=BETA2S))
        decayed = run(backend, "adamw", many.grid(lr=[base_lr], weight_decay=DECAYS), s)
        parts.append(decayed.assign(hyperparameter="weight decay (AdamW)", value=DECAYS))
    for batch in BATCHES:
        sized = run(backend, "adam", many.grid(lr=[base_lr], init_seed=SEEDS), seed, batch=batch)
        parts.append(sized.assign(hyperparameter="batch size", value=batch, seed=sized.init_seed))
    sweeps[name] = (base_lr, pd.concat(parts, ignore_index=True))

name = FW[-1]
base_lr, sweep = sweeps[name]
if len(FW) == 2:
    a, b = sweeps["tf"][1], sweeps["torch"][1]
    gap = (a.val_loss - b.val_loss).abs()
    print(f"tf vs torch: base learning rate {sweeps['tf'][0]:g} and {sweeps['torch'][0]:g}; runs whose final val "
          f"loss agrees to 1e-3: {int((gap <= 1e-3).sum())} of {len(gap)}")
points = sensitivity.spread(sweep, ["hyperparameter", "value"], "val_loss")


def per_seed_effect(part):
    """Return per seed: capped val loss at the sweep's worst point minus at its best (points by the mean)."""
    v = part.assign(val_loss=part.val_loss.clip(upper=FAILED_ABOVE)).pivot_table(index="seed", columns="value",
                                                                                   values="val_loss")
    return v[v.mean().idxmax()] - v[v.mean().idxmin()]


effect = {fw: {h: per_seed_effect(part) for h, part in sw.groupby("hyperparameter", sort=False)}
          for fw, (_, sw) in sweeps.items()}
effects = pd.DataFrame([{"framework": fw, "hyperparameter": h, "effect (worst - best, capped)": d.mean(),
                         "seed std": d.std()} for fw, e in effect.items() for h, d in e.items()])
print(f"{name}: base learning rate {base_lr:g}")
print(effects.sort_values(["framework", "effect (worst - best, capped)"], ascending=[True, False])
      .to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 5, figsize=(14, 3.2), sharey=True)
for ax, hyper in zip(axes, ["learning rate", "batch size", "weight decay (AdamW)", "beta_1", "beta_2"]):
    part = points[points.hyperparameter == hyper]
    x = part.value.to_numpy()
    shown = np.where(x == 0, np.nan, x) if hyper in ("learning rate", "batch size") else x
    ax.errorbar(np.arange(len(x)), part["mean"], yerr=part["std"], fmt="o-", capsize=3)
    ax.set_xticks(np.arange(len(x)), [f"{v:g}" for v in x], rotation=45, fontsize=7)
    ax.set(title=hyper, yscale="log")
axes[0].set(ylabel=f"final val loss (mean ± std, {repeats} seeds)")
fig.suptitle(f"one hyperparameter at a time around Adam at lr {base_lr:g} ({name})", fontsize=10, y=1.03)
plt.show()

# %% [markdown]
# The ranking comes out as the seed says for its first two: the learning rate moves the result
# the most, across three decades from "barely trains" to "breaks down"; the batch size is next,
# mostly through the number of updates an epoch allows. Weight decay and β1 move it by less but
# clearly more than the seeds do, and only at their extremes (a decay so strong that it shrinks
# the weights faster than they learn; no momentum at all, or so much that the average lags).
# β2 over its whole usual range barely matters here.

# %% [markdown]
# ## L1 next to L2, as penalties in the loss
#
# The seed names L1 and L2 together. AdamW's decay above is the decoupled form; here both are
# penalties added to the loss, $\lambda_1\sum|w|$ or $\frac{\lambda_2}{2}\sum w^2$ over every
# weight and bias, trained by Adam at the base learning rate and batch, in numpy
# ({py:mod}`lrlab.penalties`); as in the batch-size sweep, the seeds' initial weights share the
# batch order of `seed`. The first line checks that, without a penalty, it is the frameworks' own
# training.

# %%
REF = "torch" if "torch" in FW else FW[0]  # the check's reference (tf agrees with torch to about 1e-6)
lr0 = sweeps[REF][0]
base = sweeps[REF][1].query("hyperparameter == 'beta_1' and value == 0.9 and seed == @SEEDS[0]").val_loss
mine = penalties.adam_mlp((64, 32, 10), data.train, data.val, lr=lr0, init_seeds=SEEDS[:1], epochs=epochs,
                          batch_size=batch_size, seed=SEEDS[0])
print(f"numpy Adam without penalty vs {REF}'s fit_many (seed {SEEDS[0]}): |val loss gap| below 1e-6: "
      f"{bool(abs(mine[0] - float(base.iloc[0])) < 1e-6)}")
pen_rows = []
for kind, values in (("L1", L1S), ("L2", L2S)):
    strength = np.repeat(values, len(SEEDS))
    out = penalties.adam_mlp((64, 32, 10), data.train, data.val, lr=lr0, init_seeds=np.tile(SEEDS, len(values)),
                             epochs=epochs, batch_size=batch_size, seed=SEEDS[0],
                             **{kind.lower(): strength})
    pen_rows += [{"hyperparameter": f"{kind} penalty", "value": v, "seed": s, "val_loss": o}
                 for v, s, o in zip(strength, np.tile(SEEDS, len(values)), out)]
pen = pd.DataFrame(pen_rows)
table_pen = sensitivity.spread(pen, ["hyperparameter", "value"], "val_loss")
print(table_pen.assign(value=table_pen.value.map("{:g}".format)).to_string(index=False, float_format="{:.3f}".format))
pen_effect = {h: per_seed_effect(part) for h, part in pen.groupby("hyperparameter")}
print("effect (worst - best, capped):", {h: f"{d.mean():.3f} (std {d.std():.3f})" for h, d in pen_effect.items()})

# %% [markdown]
# ## Weight decay × learning rate
#
# Plain SGD with weight decay $\lambda$ (without momentum, the frameworks' decoupled decay and an
# L2 penalty are the same update): every step multiplies the weights by $1 - \eta\lambda$ before
# the gradient step. The seed's warning — a high learning rate *and* strong regularisation can
# hurt — predicts that the damage of a given $\lambda$ grows with $\eta$. For each learning rate
# we find the largest decay that costs less than 10 % of that learning rate's undecayed loss.

# %% tags=["hide-input"]
heat = {}
for name, backend in backends.items():
    parts = [run(backend, "sgd", many.grid(weight_decay=SGD_DECAYS, lr=list(SGD_LRS)), s) for s in SEEDS]
    heat[name] = pd.concat(parts, ignore_index=True)
name = FW[-1]
cells = sensitivity.spread(heat[name], ["weight_decay", "lr"], "val_loss")
grid = sensitivity.heatmap_table(cells, "weight_decay", "lr")
print(f"{name}: mean final val loss, weight decay down, learning rate across")
print(grid.to_string(float_format=lambda v: f"{v:.3f}"))
tolerated = {}
for lr in grid.columns:
    fine = grid.index[(grid[lr] <= 1.1 * grid.loc[0.0, lr]) & (grid.index > 0)]
    tolerated[lr] = float(fine.max()) if len(fine) else 0.0
trains = [lr for lr in grid.columns if grid.loc[0.0, lr] <= 0.5]
tol = pd.DataFrame({"lr": trains, "largest harmless decay": [tolerated[lr] for lr in trains]})
tol["lr x decay"] = tol.lr * tol["largest harmless decay"]
print("\nwhere SGD without decay trains (val loss <= 0.5): the largest decay costing < 10 %")
print(tol.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

fig, ax = plt.subplots(figsize=(7, 4.2))
image = ax.imshow(np.log10(np.minimum(grid.to_numpy(), 3.0)), origin="lower", aspect="auto", cmap="viridis_r")
for i, d in enumerate(grid.index):
    for j, lr in enumerate(grid.columns):
        ax.text(j, i, f"{grid.loc[d, lr]:.2f}", ha="center", va="center", fontsize=7,
                color="white" if grid.loc[d, lr] < 0.6 else "black")
ax.set_xticks(range(len(grid.columns)), [f"{v:.3g}" for v in grid.columns])
ax.set_yticks(range(len(grid.index)), [f"{v:g}" for v in grid.index])
ax.set(xlabel="learning rate", ylabel="weight decay λ",
       title=f"SGD: final val loss after {epochs} epochs ({name}, {repeats} seeds)")
fig.colorbar(image, ax=ax, label="log10 val loss (capped at 3)")
plt.show()

# %% [markdown]
# The map has a diagonal edge: the decay a learning rate tolerates falls as the learning rate
# rises, roughly keeping the product $\eta\lambda$ — the fraction by which every step shrinks
# the weights — below a fixed level. A decay that is harmless at a small learning rate ruins the
# model at a large one, which is the seed's warning in numbers; the remedy it implies is to
# think of the decay per step, $\eta\lambda$, not of $\lambda$ alone.

# %% [markdown]
# ## Verdicts
#
# Each part by the rule stated at the top of the chapter, in each framework from its own sweeps
# (C003-1b also framework-free, from the numpy penalties).

# %%
RULES = {"C003-1a": "min(effect lr, effect batch) - max(effect weight decay, beta_1, beta_2) >= 0.05",
         "C003-1b": "effect of the regularisation strength over its range >= 0.02",
         "C003-1c": "effect of beta_1 and of beta_2 over their ranges >= 0.02",
         "C003-2b": "damage of a strong decay at the largest trainable lr minus at the smallest >= 0.05"}
found = []
stat = lambda d: (float(d.mean()), float(d.std()))  # noqa: E731
for fw, e in effect.items():
    top = np.minimum(e["learning rate"].to_numpy(), e["batch size"].sort_index().to_numpy()) - np.max(
        [e[h].sort_index().to_numpy() for h in ("weight decay (AdamW)", "beta_1", "beta_2")], axis=0)
    ev = "; ".join(f"{h} {d.mean():.3f} (std {d.std():.3f})" for h, d in e.items())
    common = dict(seeds=repeats, scope=SCOPE, evidence=f"{fw}, Adam around lr {sweeps[fw][0]:g}, capped effects: {ev}")
    found.append(part_verdicts.judge("C003-1a", fw, {"": stat(pd.Series(top))}, 0.05, rule=RULES["C003-1a"], **common))
    found.append(part_verdicts.judge("C003-1b", fw, {"": stat(e["weight decay (AdamW)"])}, 0.02,
                                     rule=RULES["C003-1b"] + " (AdamW decoupled decay)", **common))
    found.append(part_verdicts.judge("C003-1c", fw, {"beta_1": stat(e["beta_1"]), "beta_2": stat(e["beta_2"])}, 0.02,
                                     rule=RULES["C003-1c"], **common))
found.append(part_verdicts.judge(
    "C003-1b", "none", {f"{h} in the loss": stat(d) for h, d in pen_effect.items()}, 0.02, seeds=repeats,
    rule=RULES["C003-1b"] + " (numpy Adam, penalty in the loss)", scope=SCOPE,
    evidence=f"numpy Adam at lr {lr0:g}, L1 over {L1S}, L2 over {L2S}: "
             + "; ".join(f"{h} {d.mean():.3f} (std {d.std():.3f})" for h, d in pen_effect.items())))

# %%
for fw in FW:
    h = heat[fw].assign(val_loss=heat[fw].val_loss.clip(upper=FAILED_ABOVE))
    v = h.pivot_table(index=["seed", "weight_decay"], columns="lr", values="val_loss")
    mean0 = v.xs(0.0, level="weight_decay").mean()
    lows, highs = float(mean0[mean0 <= 0.5].index.min()), float(mean0[mean0 <= 0.5].index.max())
    strong = min([d for d in SGD_DECAYS if d >= 0.01] or [max(SGD_DECAYS)])
    damage = v.xs(strong, level="weight_decay") - v.xs(0.0, level="weight_decay")
    d = damage[highs] - damage[lows]
    found.append(part_verdicts.judge(
        "C003-2b", fw, {"": stat(d)}, 0.05, rule=RULES["C003-2b"], seeds=repeats, scope=SCOPE + ", SGD heat map",
        evidence=f"{fw}: decay {strong:g} raises the capped val loss by {damage[lows].mean():.3f} at lr {lows:.3g} "
                 f"and by {damage[highs].mean():.3f} at lr {highs:.3g}"))
print(part_verdicts.table(found).to_string(index=False))

# %% [markdown]
# The learning rate matters most because its useful range is narrow on a log scale, and the
# batch size follows; weight decay matters when it is strong; of Adam's two betas only β1 moves
# the loss by more than the threshold across its range, β2 over its whole usual range barely
# does. L1 matters in the same sense as L2 — a strong penalty costs loss. On C003-2b the mean
# damage of a strong decay is larger at the largest learning rate that trains, as the heat map
# shows, but at that rate, next to the edge of stability, the seeds disagree about as much as
# the effect itself: with `repeats` seeds the verdict is *inconclusive*, not the "holds" the old
# page gave from the means. The table above is the verdict; its words are the same in TensorFlow
# and PyTorch, whose runs agree to float rounding here.
#
# **Scope.** The digits data, one 64–32–10 ReLU MLP in float64, `epochs` epochs, `repeats`
# seeds, both frameworks (L1 and L2 in the loss: numpy, validated against the frameworks'
# Adam). The ranges decide the ranking: a hyperparameter swept over an extreme range (a decay
# of 1) "matters" more than one swept over its usual values. What this cannot show: rankings
# for larger models or data, where β2 and the batch size are known to matter more for stability.

# %%
print(f"time: {time.perf_counter() - started:.1f} s")
