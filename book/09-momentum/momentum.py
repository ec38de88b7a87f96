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
# # Momentum and the learning rate
#
# **Seed rows covered:** E000-4 (the momentum update by hand) and C000-4 (momentum makes
# training less sensitive to the learning rate, permits a larger one and damps oscillation).
#
# Seed 000 writes the momentum update as a velocity that remembers past gradients,
#
# $$ v \leftarrow \mu v - \eta\, g, \qquad w \leftarrow w + v, $$
#
# with $\mu$ "around $0.9$", and claims three things for it (parts C000-4a, 4b and 4c): with
# momentum the learning rate matters less, a larger learning rate becomes usable, and
# oscillations are damped. This chapter
# first checks the update against what Keras and PyTorch actually compute (they write it in two
# different ways, which agree exactly — until the learning rate changes), then measures the three
# claims, each part with its own rule and its own verdict in each framework: on a two-weight
# "ravine" where every step can be followed, and on an MLP over a grid of learning rates and
# momenta.
#
# The key quantity is the **effective step**. If the gradient stays the same, the velocity
# settles at $v = -\eta g/(1-\mu)$: momentum $\mu$ multiplies the step by $1/(1-\mu)$, ten for
# $\mu = 0.9$, a hundred for $0.99$. Any comparison of momenta at the same $\eta$ is therefore
# mostly a comparison of step sizes.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first seed of the MLP sweep (init and batch order)
ravine_steps: int = 60  # full-batch updates on the two-weight ravine
momenta: str = "0,0.5,0.9,0.99"  # the momenta of the MLP sweep
lr_min_exp: float = -3.0  # the sweep's learning rates are 10**e for e from lr_min_exp ...
lr_max_exp: float = 1.0  # ... to lr_max_exp in steps of half a decade
repeats: int = 5  # seeds per point of the MLP sweep
epochs: int = 10  # epochs per MLP run
batch_size: int = 64
good_factor: float = 1.5  # a learning rate is "good" if its mean val loss <= good_factor x the best

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import lr_bands, many, plots, report, schedules, sensitivity
from lrlab.data import digits
from lrlab.report import glue

plots.setup()  # the book's figures, whatever the caller's matplotlib settings
P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1), ravine_steps=lrlab.Int(2, 10_000),
    momenta=lrlab.FloatList(0, 1, high_open=True, sort=True), lr_min_exp=lrlab.Float(-8, 2),
    lr_max_exp=lrlab.Float("lr_min_exp", 2), repeats=lrlab.Int(1, 20), epochs=lrlab.Int(1, 500),
    batch_size=lrlab.Int(1, 2000), good_factor=lrlab.Float(1, low_open=True))
FW, MUS = P.frameworks, P.momenta
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)
LRS = 10.0 ** np.arange(lr_min_exp, lr_max_exp + 1e-9, 0.5)
print(f"frameworks: {', '.join(FW)}; momenta {MUS}; {len(LRS)} learning rates from {LRS[0]:g} to {LRS[-1]:g}")

# %% [markdown]
# ## The update by hand, and the frameworks' two forms (E000-4)
#
# Keras's `SGD(momentum=μ)` keeps the seed's form: a velocity $v$ in units of weight,
# $v \leftarrow \mu v - \eta g$, $w \leftarrow w + v$. PyTorch's `SGD(momentum=μ)` keeps a
# buffer $b$ in units of *gradient* and applies the learning rate last:
#
# $$ b \leftarrow \mu b + g, \qquad w \leftarrow w - \eta\, b . $$
#
# With a constant $\eta$ the two are the same algorithm: put $v = -\eta b$ and PyTorch's lines
# become Keras's. (PyTorch's `dampening` would scale $g$ by $1 - \text{dampening}$; its default
# is 0, which is what we use.) With a *changing* $\eta$ they differ: Keras's velocity still holds
# the steps taken at the old rates, while PyTorch multiplies the whole remembered buffer by the
# new rate — as if $v$ were rescaled by $\eta_{k}/\eta_{k-1}$ at every change.
#
# We check this on the smallest problem that shows it: least squares on two centred, orthogonal
# features with variances 1 and 25 plus a bias. The loss is an exact quadratic whose curvatures
# are 2 (first weight and bias) and 50 (second weight) — a ravine, 25 times steeper across than
# along. A linear `lrlab` model (`mlp((2, 1), output_activation="linear")`, MSE, full batch)
# is trained in both frameworks (in float64, lrlab's default), and the same updates are written
# out in numpy in both forms. A gap below $10^{-9}$ is rounding; we print it as `< 1e-09`,
# because its exact size depends on the CPU's vector kernels.

# %%
rng = np.random.default_rng(seed)
n = 256
q, _ = np.linalg.qr(rng.standard_normal((n, 2)) - rng.standard_normal((n, 2)).mean(axis=0))
q -= q.mean(axis=0)
q, _ = np.linalg.qr(q)  # orthonormal columns, each orthogonal to the constant column after centring
x_ravine = q * np.sqrt(n) * np.array([1.0, 5.0])  # column variances 1 and 25 (float64, like the models)
w_star, b_star = np.array([[1.0], [1.0]]), 0.5
y_ravine = x_ravine @ w_star + b_star
print("curvatures of the loss (eigenvalues of its Hessian):",
      np.round(np.linalg.eigvalsh(2 / n * np.c_[x_ravine, np.ones(n)].T @ np.c_[x_ravine, np.ones(n)]), 3))


def gradient(w, b):
    r = x_ravine @ w + b - y_ravine
    return 2 / n * x_ravine.T @ r, 2 / n * r.sum()


def by_hand(lr, mu, steps, form):
    """Weights after each update, in the seed's/Keras's form or in PyTorch's (float64 numpy)."""
    w, b = np.zeros((2, 1)), 0.0
    vw, vb = np.zeros_like(w), 0.0
    path = []
    for k in range(steps):
        eta = lr(k) if callable(lr) else lr
        gw, gb = gradient(w, b)
        if form == "keras":  # v <- mu v - eta g ; w <- w + v
            vw, vb = mu * vw - eta * gw, mu * vb - eta * gb
            w, b = w + vw, b + vb
        else:  # b <- mu b + g ; w <- w - eta b
            vw, vb = mu * vw + gw, mu * vb + gb
            w, b = w - eta * vw, b - eta * vb
        path.append(np.r_[w[:, 0], b])
    return np.array(path)


def framework_run(backend, lr, mu, steps):
    model = backend.mlp((2, 1), output_activation="linear", weights=[(np.zeros((2, 1)), np.zeros(1))])
    history = backend.fit(model, (x_ravine, y_ravine), optimizer=backend.optimizer("momentum", lr, momentum=mu),
                          loss="mse", epochs=steps, batch_size=None, shuffle=False)
    (kernel, bias), = backend.weights(model)
    return np.r_[kernel[:, 0], bias], history


constant = [(0.038, 0.0), (0.0038, 0.9), (0.038, 0.9)]
decayed = schedules.make("step", initial_lr=0.02, step_size=ravine_steps // 2, gamma=0.1)
rows = []
for label, lr, mu in [*((f"lr {lr:g}", lr, mu) for lr, mu in constant), ("step decay 0.02 -> 0.002", decayed, 0.9)]:
    hand = {form: by_hand(lr, mu, ravine_steps, form)[-1] for form in ("keras", "torch")}
    row = {"lr": label, "momentum": mu, "|keras form - torch form|": np.abs(hand["keras"] - hand["torch"]).max()}
    for name, backend in backends.items():
        final, _ = framework_run(backend, lr, mu, ravine_steps)
        row[f"|{name} - keras form|"] = np.abs(final - hand["keras"]).max()
        row[f"|{name} - torch form|"] = np.abs(final - hand["torch"]).max()
    rows.append(row)
forms = pd.DataFrame(rows)
print(forms.to_string(index=False, float_format=report.gap_text))
held = forms[(forms.momentum > 0) & forms.lr.str.startswith("lr ")]  # E000-4: momentum by hand, constant LR
lrlab.record("example:E000-4", {"quantity": "largest |w - w by hand (seed's form)| on the ravine, momentum, "
                                            "constant LR", **{n: report.gap_text(held[f"|{n} - keras form|"].max())
                                                              for n in FW}})

# %% [markdown]
# At a constant learning rate the two forms and both frameworks agree to rounding: the seed's
# update *is* what both libraries compute. Under the step decay
# the two forms part by far more than rounding, and each framework follows its own form:
# Keras's velocity carries the large early steps into the low-rate phase, PyTorch's is
# rescaled at once. Neither is wrong, but a schedule with momentum is not the same experiment in
# the two frameworks; this book's other chapters use plain SGD or a constant rate when they
# compare the two under a schedule.
# ## Does momentum damp oscillation? (C000-4c)
#
# On the ravine, plain gradient descent with $\eta = 0.038$ is close to the limit $2/50$ of the
# steep direction: across the ravine it flips sign at every step, shrinking by only
# $|1 - 0.038 \cdot 50| = 0.9$ per step, while along the ravine it creeps. We follow each weight
# after every update — in numpy by hand (Keras's form) and in each framework's own full-batch run
# (an {py:class}`lrlab.lr_bands.WeightTrace` callback keeps the weights after every epoch, which
# here is one update) — and count the **reversals** (sign changes of $w - w^\ast$ while
# $|w - w^\ast|$ exceeds $10^{-6}$: closer than that, the sign is decided by rounding and changes at
# random, differently on every CPU — {py:func}`lrlab.report.sign_changes`) and the steps until
# both weights are within $10^{-3}$ of the minimum: plain descent; momentum $\mu = 0.9$ at a tenth
# of the rate (the same effective step); $\mu = 0.9$ at the same rate; and the classical best
# pair for this curvature ratio (Polyak's heavy ball: $\mu = ((\sqrt{\kappa}-1)/(\sqrt{\kappa}+1))^2$,
# $\eta = 4/(\sqrt{\lambda_{\max}}+\sqrt{\lambda_{\min}})^2$).
#
# **Rule for C000-4c, before the numbers.** The effect is the share of reversals (along and
# across together) that momentum $\mu = 0.9$ removes, $1 - R_{0.9}/R_{0}$, in each framework's
# own runs; the part holds if it is at least $0.25$ (a quarter fewer reversals). It is measured
# under two conditions — at the same effective step $\eta/(1-\mu)$ and at the same raw $\eta$ —
# and holds without condition only if it holds under both. The runs are deterministic (no seed),
# so there is no seed noise.

# %%
kappa, lam_max, lam_min = 25.0, 50.0, 2.0
REVERSAL_FLOOR = 1e-6  # sign changes of smaller errors are rounding, not oscillation
polyak = (4 / (np.sqrt(lam_max) + np.sqrt(lam_min)) ** 2, ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2)
settings = {"plain, lr 0.038": (0.038, 0.0), "momentum 0.9, lr 0.0038": (0.0038, 0.9),
            "momentum 0.9, lr 0.038": (0.038, 0.9), f"heavy ball, lr {polyak[0]:.3f}, mu {polyak[1]:.3f}": polyak}
steps_long = 10 * ravine_steps


def framework_path(backend, lr, mu, steps):
    """The weights (w1, w2, b) after every update of the framework's own full-batch run."""
    model = backend.mlp((2, 1), output_activation="linear", weights=[(np.zeros((2, 1)), np.zeros(1))])
    trace = lr_bands.WeightTrace()
    backend.fit(model, (x_ravine, y_ravine), optimizer=backend.optimizer("momentum", lr, momentum=mu), loss="mse",
                epochs=steps, batch_size=None, shuffle=False, callbacks=[trace])
    return trace.path


def oscillation(path):
    """Reversals along and across the ravine, and the steps until both weights are within 1e-3."""
    error = path[:, :2] - w_star[:, 0]
    along, across = report.sign_changes(error, floor=REVERSAL_FLOOR)
    close = np.flatnonzero(np.abs(error).max(axis=1) < 1e-3)
    return {"reversals along (flat)": int(along), "reversals across (steep)": int(across),
            f"steps to 1e-3 (of {steps_long})": int(close[0]) + 1 if len(close) else None}

# %% tags=["hide-input"]
paths, osc_rows = {}, []
for label, (lr, mu) in settings.items():
    paths["by hand", label] = by_hand(lr, mu, steps_long, "keras")
    for name, backend in backends.items():
        paths[name, label] = framework_path(backend, lr, mu, steps_long)
for (source, label), path in paths.items():
    lr, mu = settings[label]
    osc_rows.append({"source": source, "run": label, "effective step": lr / (1 - mu), **oscillation(path)})
osc = pd.DataFrame(osc_rows).assign(reversals=lambda t: t["reversals along (flat)"] + t["reversals across (steep)"])
print(osc[osc.source == "by hand"].drop(columns=["source", "reversals"]).to_string(index=False))
print("\nreversals along + across in each run:")
R = osc.pivot(index="run", columns="source", values="reversals").loc[list(settings), ["by hand", *FW]]
print(R.to_string())

fig, ax = plt.subplots(figsize=(7, 4))
for i, label in enumerate(settings):
    path = paths["by hand", label]
    ax.plot(np.r_[0, path[:40, 0]], np.r_[0, path[:40, 1]], ".-", color=f"C{i}", lw=0.8, ms=3, label=label)
ax.plot(*w_star[:, 0], "k*", ms=12)
ax.set(xlabel="w1 (flat direction, curvature 2)", ylabel="w2 (steep direction, curvature 50)",
       title="the first 40 updates on the ravine (start at 0, star: minimum)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The figure shows the zig-zag across the ravine and how momentum changes it: at the same
# effective step the step-by-step sign flips become a slow swing with a fraction of the
# reversals. At the same raw rate — a ten times larger step — the swing is wider and the count
# is not lower than plain descent's. Momentum also pays with overshoot *along* the ravine, where
# plain descent had none, and neither momentum run reaches the minimum sooner than plain descent.
# Tuned for the curvatures (the heavy ball), momentum converges several times faster than plain
# descent: acceleration on ill-conditioned problems, more than damping, is what it is for. Each
# framework's own run counts the same reversals as the by-hand update (the table's columns).
#
# ## Learning-rate sensitivity on an MLP
#
# Now the claim as practitioners meet it: a 64–32–10 MLP on the digits data (scikit-learn's
# `load_digits`, 60/20/20 split), SGD with momentum $\mu \in$ `momenta` over a grid of learning
# rates half a decade apart, `epochs` epochs with batches of `batch_size`, `repeats` seeds
# (initial weights and batch order) per point. All the models of one seed train together in one
# `fit_many` call (M models as one batched computation, each equal to its own `fit` up to float
# rounding). We read the final validation loss (a run that diverged is drawn at the top).

# %%
data = digits(seed=0)


def sweep(backend):
    """Where every (momentum, lr) model ended, for each seed: one fit_many call per seed (init and batch order)."""
    parts = []
    for s in range(seed, seed + repeats):
        history = backend.fit_many(backend.mlp((64, 32, 10), "relu", "softmax", seed=s), data.train, data.val,
                                   optimizer="momentum", loss="categorical_crossentropy", epochs=epochs,
                                   batch_size=batch_size, configs=many.grid(momentum=MUS, lr=list(LRS)), seed=s)
        parts.append(sensitivity.final(history, epochs, seed=s))
    return pd.concat(parts, ignore_index=True)


results = {name: sweep(backend) for name, backend in backends.items()}
if len(FW) == 2:
    a, b = results["tf"], results["torch"]
    gap = (a.val_loss - b.val_loss).abs()
    calm = np.isfinite(gap) & (a.val_loss < 0.5)
    print(f"tf and torch: same diverged runs: {bool((a.diverged == b.diverged).all())}; |val loss gap| over the "
          f"{int(calm.sum())} runs that train well (val loss < 0.5): {report.gap_text(float(gap[calm].max()), 1e-4)}; "
          f"the runs that differ by more than 0.01 are all at the edge of stability (val loss > 0.5): "
          f"{bool((a.val_loss[gap > 0.01] > 0.5).all())}")

# %% [markdown]
# The mean final validation loss over the seeds, learning rates down, momenta across, in each
# framework (the figure below shows the spread between seeds). A run at the edge of stability
# ends wherever the last bits of its arithmetic send it, which differs from one CPU to the next
# (such a mean moved in its first decimal between our two kernel settings), so a cell where some
# seed ended above $1$ — far above the runs that train, close to chance ($\ln 10 \approx 2.3$) —
# reads "> 1", and a cell with a diverged seed "diverged"
# ({py:func}`lrlab.sensitivity.heatmap_text`). Runs too slow to train at the smallest rates end
# there too. The band of good rates stops at such a cell instead of interpolating into it. A
# rate is **good** when its mean validation loss is at most `good_factor` times the best mean of
# the framework's whole grid.

# %%
FAILED_ABOVE = 1.0  # a final val loss above this marks a run near breakdown (chance: ln 10 = 2.3)
tables = {name: sensitivity.spread(results[name], ["momentum", "lr"], "val_loss") for name in FW}
thresholds = {name: good_factor * float(table["mean"].min()) for name, table in tables.items()}
for name, table in tables.items():
    print(f"{name}: best mean val loss {table['mean'].min():.3f}; 'good' means a mean val loss <= "
          f"{thresholds[name]:.3f}")
    print(sensitivity.heatmap_text(table, "lr", "momentum", FAILED_ABOVE).to_string(), "\n")

# %%
def per_momentum(table, threshold):
    """For each momentum: the best lr, and the band of good lrs on the mean curve (raw lr and effective step)."""
    rows = []
    for mu, part in table.groupby("momentum"):
        part = part.assign(mean=part["mean"].where(part["max"] <= FAILED_ABOVE, np.inf))  # "> 1" cells: failed
        i = int(part["mean"].to_numpy().argmin())
        good = part.lr[part["mean"] <= threshold]
        rows.append({"momentum": mu, "best lr": part.lr.iloc[i], "best val loss": part["mean"].iloc[i],
                     "smallest good lr": good.min(), "largest good lr": good.max(),
                     "largest good effective step": good.max() / (1 - mu),
                     "good band (decades)": sensitivity.good_band(part.lr, part["mean"], threshold, FAILED_ABOVE)})
    return pd.DataFrame(rows)


per_mu = {name: per_momentum(tables[name], thresholds[name]) for name in FW}
for name in FW:
    print(f"{name}:\n{per_mu[name].to_string(index=False, float_format=lambda v: f'{v:.3g}')}\n")

# %% [markdown]
# Where plain SGD trains well, we also set momentum $\mu$ at rate $\eta$ beside plain SGD at the
# same *effective step* $\eta/(1-\mu)$ and at the same *raw* rate $\eta$ (grid points half a
# decade apart make $\mu = 0.9$ line up exactly; mean val losses, "> 1" as above):

# %%
def pairs_at_equal_step(table, threshold):
    """Momentum at lr against plain SGD at the same effective step lr/(1-mu) and at the same raw lr."""
    means, rows = sensitivity.heatmap_table(table, "lr", "momentum"), []
    for mu in [m for m in MUS if m > 0] if 0 in MUS else []:
        for lr in means.index:
            match = [x for x in means.index if np.isclose(x, lr / (1 - mu), rtol=1e-6)]
            if match and means.loc[match[0], 0.0] <= threshold:
                rows.append({"momentum": mu, "effective step": match[0], "plain": means.loc[match[0], 0.0],
                             "with momentum": means.loc[lr, mu], "plain at the same raw lr": means.loc[lr, 0.0]})
    return pd.DataFrame(rows)


pairs = {name: pairs_at_equal_step(tables[name], thresholds[name]) for name in FW}
for name in FW:
    text = pairs[name].copy()
    for column in ("plain", "with momentum", "plain at the same raw lr"):
        text[column] = text[column].map(lambda v: report.loss_text(v, FAILED_ABOVE, 3))
    print(f"{name}:\n{text.to_string(index=False)}\n" if len(text) else f"{name}: no pair on this grid")

# %% tags=["hide-input"]
name = FW[-1]
table = tables[name]
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
cap = 2.5
for i, (mu, part) in enumerate(table.groupby("momentum")):
    for ax, x in ((axes[0], part.lr), (axes[1], part.lr / (1 - mu))):
        ax.plot(x, np.minimum(part["mean"], cap), "o-", color=f"C{i}", ms=4, label=f"μ = {mu:g}")
        ax.fill_between(x, np.minimum(part["min"], cap), np.minimum(part["max"], cap), color=f"C{i}", alpha=0.2)
for ax, label in zip(axes, ("learning rate η", "effective step η / (1 − μ)")):
    ax.set_xscale("log")
    ax.axhline(thresholds[name], color="grey", ls=":", lw=1)
    ax.set(xlabel=label)
axes[0].set(ylabel=f"final val loss (mean, band: {repeats} seeds; capped at {cap})",
            title=f"against the learning rate ({name}; the other framework's table is above)")
axes[1].set(title="against the effective step (dotted: 'good')")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# Against the raw learning rate the curves are the same shape shifted to the left: each tenfold
# step in $1/(1-\mu)$ moves the rates that train well about a decade lower. Against the
# effective step $\eta/(1-\mu)$ their rising (too small) side falls on one curve — wherever plain
# SGD trains well, momentum $\mu = 0.9$ at a tenth of the rate ends at almost the same loss (the
# pairs above), while at the *same* raw rate it ends somewhere else entirely. (At $\mu = 0.99$ the
# velocity needs about a hundred updates to build up, a good part of this short run, and the
# curve lags.) On the other side momentum does buy something: it keeps training at effective
# steps where plain SGD has already broken down — on a quadratic the heavy ball is stable up to
# $\eta < 2(1+\mu)/L''$ instead of $2/L''$, an effective step up to $(1+\mu)/(1-\mu)$ times
# larger — so its band of good rates is wider, though it sits lower.
#
# ## Verdicts
#
# **Rules, before the numbers** (per framework, from its own sweep; $\mu = 0.9$ — the seed's
# "around $0.9$" — against plain SGD, $\mu = 0$). Each seed gets its own band: the learning rates
# whose *seed's* final val loss is at most the framework's good threshold above, by the same
# interpolation and the same "> 1" stop. The effect is the mean over seeds of a per-seed
# difference; the noise is its seed-to-seed standard deviation; an effect within twice the noise
# is "inconclusive" ({py:mod}`lrlab.verdicts`).
#
# * **C000-4a** (less sensitive): band width at $\mu = 0.9$ minus band width at $\mu = 0$, in
#   decades; holds if at least $0.25$ decades. A band's width does not depend on whether it is
#   counted in raw rates or in effective steps (the two differ by a constant factor).
# * **C000-4b** (a larger learning rate): log10 of the largest good rate at $\mu = 0.9$ minus
#   that at $\mu = 0$ (the upper edges of the two bands), in decades; holds if at least $0.25$
#   decades. Counted twice: in raw rates $\eta$, and in effective steps $\eta/(1-\mu)$ (which adds
#   $\log_{10} 10 = 1$ decade at $\mu = 0.9$).
# * **C000-4c** (damps oscillation): the rule stated with the ravine above.
#
# "Survives ±50 %" re-applies a rule with its threshold halved and multiplied by $1.5$.

# %%
MU_HI = 0.9 if 0.9 in MUS else MUS[-1]  # the seed's "around 0.9"
BAND_GAIN, DAMPING = 0.25, 0.25  # decades (C000-4a, C000-4b); share of reversals removed (C000-4c)
n_train = len(data.train[0])
scope = (f"digits ({n_train} training rows), MLP 64-32-10, SGD with momentum, {epochs} epochs, batch {batch_size}, "
         f"{repeats} seeds, {len(LRS)} LRs 10^{lr_min_exp:g}..10^{lr_max_exp:g}")
seed_bands = {name: lr_bands.seed_bands(results[name], "momentum", thresholds[name], FAILED_ABOVE) for name in FW}
for name in FW:
    view = seed_bands[name].pivot(index="seed", columns="momentum")[["band", "high"]]
    print(f"{name}: band (decades) and log10 of the largest good lr, per seed\n{view.round(2).to_string()}\n")

# %%
found = []
for name in FW:
    b = seed_bands[name].pivot(index="seed", columns="momentum")
    wider = lr_bands.mean_std(b["band"][MU_HI] - b["band"][MUS[0]])
    raw = b["high"][MU_HI] - b["high"][MUS[0]]
    step = raw + np.log10((1 - MUS[0]) / (1 - MU_HI))
    found.append(lr_bands.judge(
        "C000-4a", name, {"-": wider}, BAND_GAIN, scope=scope, seeds=repeats,
        rule=f"band of good LRs at mu={MU_HI:g} wider than at mu={MUS[0]:g} by >= {BAND_GAIN} decades (per seed)",
        evidence=f"band width mu={MU_HI:g} minus mu={MUS[0]:g}: {wider[0]:.2f} decades, seed std {wider[1]:.2f}"))
    found.append(lr_bands.judge(
        "C000-4b", name, {"counted as effective step lr/(1-mu)": lr_bands.mean_std(step),
                          "counted as raw lr": lr_bands.mean_std(raw)}, BAND_GAIN, scope=scope, seeds=repeats,
        rule=f"largest good LR at mu={MU_HI:g} larger than at mu={MUS[0]:g} by >= {BAND_GAIN} decades (per seed)",
        evidence=f"log10 largest good LR, mu={MU_HI:g} minus mu={MUS[0]:g}: raw {raw.mean():.2f} decades, as "
                 f"effective step {step.mean():.2f} (seed std {raw.std():.2f})"))

# %%
plain, at_step, at_raw = list(settings)[:3]
for name in FW:
    removed = {"at equal effective step": 1 - R.loc[at_step, name] / R.loc[plain, name],
               "at equal raw lr": 1 - R.loc[at_raw, name] / R.loc[plain, name]}
    found.append(lr_bands.judge(
        "C000-4c", name, {k: (float(v), None) for k, v in removed.items()}, DAMPING, seeds=None, regime="surfaces",
        scope=f"2-weight ravine (least squares, curvatures 2 and 50), linear model, full batch, {steps_long} "
              "updates, deterministic",
        rule=f"momentum {MU_HI:g} removes >= {DAMPING:.0%} of the reversals (sign changes of w - w*, |w - w*| > "
             f"{REVERSAL_FLOOR:g}, along + across)",
        evidence=f"reversals: plain {R.loc[plain, name]:.0f}, mu=0.9 at equal effective step "
                 f"{R.loc[at_step, name]:.0f}, at equal raw lr {R.loc[at_raw, name]:.0f}"))
print(lr_bands.table(found).to_string(index=False))

# %%
v = {(f.part, f.framework): f for f in found}
for name in FW:
    glue(f"c000_4a_{name}", round(v["C000-4a", name].effect, 2), display=False)
    glue(f"c000_4a_noise_{name}", round(v["C000-4a", name].noise, 2), display=False)
    raw_move = v["C000-4b", name].extra["conditions"]["counted as raw lr"]["effect"]
    glue(f"c000_4b_raw_{name}", round(abs(raw_move), 2), display=False)
    glue(f"c000_4b_way_{name}", lr_bands.Words("down" if raw_move < 0 else "up"), display=False)
    glue(f"c000_4c_step_{name}", int(R.loc[at_step, name]), display=False)
    glue(f"c000_4c_raw_{name}", int(R.loc[at_raw, name]), display=False)
    glue(f"c000_4c_plain_{name}", int(R.loc[plain, name]), display=False)
    pair = pairs[name][pairs[name].momentum == MU_HI] if len(pairs[name]) else pairs[name]
    glue(f"c000_4_pair_gap_{name}", round(float((pair["with momentum"] - pair.plain).abs().max()), 3) if len(pair)
         else lr_bands.Words("(no pair on this grid)"), display=False)
    glue(f"c000_4_words_{name}", lr_bands.Words("; ".join(f"{f.part}: {f.text}" for f in found
                                                         if f.framework == name)), display=False)

# %% [markdown]
# In PyTorch the band of good rates is {glue:text}`c000_4a_torch` decades wider with momentum
# (seed standard deviation {glue:text}`c000_4a_noise_torch`), in TensorFlow
# {glue:text}`c000_4a_tf` ({glue:text}`c000_4a_noise_tf`): the two frameworks train the same
# models to float64 rounding, so they can only part where a run sits at the edge of stability
# and one seed's band stops a grid point earlier. With momentum the largest good *raw* rate moves
# {glue:text}`c000_4b_way_torch` by {glue:text}`c000_4b_raw_torch` decades in PyTorch and
# {glue:text}`c000_4b_way_tf` by {glue:text}`c000_4b_raw_tf` in TensorFlow; counted as an
# effective step it gains the decade that $1/(1-\mu)$ adds. On the
# MLP, wherever plain SGD trains well, $\mu = 0.9$ at the same effective step ends within
# {glue:text}`c000_4_pair_gap_torch` of plain SGD's mean val loss in PyTorch
# ({glue:text}`c000_4_pair_gap_tf` in TensorFlow): there momentum changes nothing. On the
# ravine, momentum at the same effective step cuts the reversals from
# {glue:text}`c000_4c_plain_torch` to {glue:text}`c000_4c_step_torch`; at the same raw rate it
# leaves {glue:text}`c000_4c_raw_torch`.
#
# Verdicts, TensorFlow: {glue:text}`c000_4_words_tf`. PyTorch: {glue:text}`c000_4_words_torch`.
#
# Momentum is a multiplier on the step, $1/(1-\mu)$, and most of what the seed attributes to it
# follows from that. The learning rates that work move *down* by that factor, not up: "a larger
# learning rate" is true only of the effective step $\eta/(1-\mu)$, not of the number one types
# into the optimizer — and where plain SGD trains, momentum at the same effective step changes
# almost nothing. The band of good rates is wider with $\mu = 0.9$, because the heavy ball stays
# stable at effective steps where plain SGD breaks down — that part of "less sensitive" holds
# here, on a band that sits a decade lower. Oscillation across a ravine is damped at equal
# effective step, not at equal rate, and at the price of overshoot along the ravine; what
# momentum offers on an ill-conditioned loss, faster progress along the flat directions, needs
# $\mu$ and $\eta$ tuned together.
#
# **Scope.** The MLP verdicts rest on one data set (digits, a 64–32–10 MLP), a short budget
# (`epochs` epochs, batch `batch_size`), `repeats` seeds and a half-decade grid; the oscillation
# verdicts on a two-weight quadratic, where every step can be followed but nothing is
# stochastic. Neither shows what momentum does over long training, with a schedule, or on
# networks whose loss is far from quadratic.
