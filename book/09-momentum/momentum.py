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
# with $\mu$ "around 0.9", and claims three things for it: with momentum the learning rate
# matters less, a larger learning rate becomes usable, and oscillations are damped. This chapter
# first checks the update against what Keras and PyTorch actually compute (they write it in two
# different ways, which agree exactly — until the learning rate changes), then measures the three
# claims: on a two-weight "ravine" where every step can be followed, and on an MLP over a grid of
# learning rates and momenta.
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
repeats: int = 3  # seeds per point of the MLP sweep
epochs: int = 10  # epochs per MLP run
batch_size: int = 64
good_factor: float = 1.5  # a learning rate is "good" if its mean val loss <= good_factor x the best

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lrlab
from lrlab import many, schedules, sensitivity
from lrlab.data import digits

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
# is trained in both frameworks, and the same updates are written out in numpy float32 in both
# forms.

# %%
rng = np.random.default_rng(seed)
n = 256
q, _ = np.linalg.qr(rng.standard_normal((n, 2)) - rng.standard_normal((n, 2)).mean(axis=0))
q -= q.mean(axis=0)
q, _ = np.linalg.qr(q)  # orthonormal columns, each orthogonal to the constant column after centring
x_ravine = (q * np.sqrt(n) * np.array([1.0, 5.0])).astype(np.float32)  # column variances 1 and 25
w_star, b_star = np.array([[1.0], [1.0]], dtype=np.float32), np.float32(0.5)
y_ravine = (x_ravine @ w_star + b_star).astype(np.float32)
print("curvatures of the loss (eigenvalues of its Hessian):",
      np.round(np.linalg.eigvalsh(2 / n * np.c_[x_ravine, np.ones(n)].T @ np.c_[x_ravine, np.ones(n)]), 3))


def gradient(w, b):
    r = x_ravine @ w + b - y_ravine
    return (np.float32(2 / n) * x_ravine.T @ r).astype(np.float32), np.float32(2 / n) * r.sum(dtype=np.float32)


def by_hand(lr, mu, steps, form):
    """Weights after each update, in the seed's/Keras's form or in PyTorch's (float32 numpy)."""
    w, b = np.zeros((2, 1), np.float32), np.float32(0)
    vw, vb = np.zeros_like(w), np.float32(0)
    path = []
    for k in range(steps):
        eta = np.float32(lr(k) if callable(lr) else lr)
        gw, gb = gradient(w, b)
        if form == "keras":  # v <- mu v - eta g ; w <- w + v
            vw, vb = np.float32(mu) * vw - eta * gw, np.float32(mu) * vb - eta * gb
            w, b = w + vw, b + vb
        else:  # b <- mu b + g ; w <- w - eta b
            vw, vb = np.float32(mu) * vw + gw, np.float32(mu) * vb + gb
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
print(forms.to_string(index=False, float_format=lambda v: f"{v:.0e}"))

# %% [markdown]
# At a constant learning rate the two forms and both frameworks agree to float32 rounding
# (a few $10^{-7}$): the seed's update *is* what both libraries compute. Under the step decay
# the two forms part by far more than rounding, and each framework follows its own form:
# Keras's velocity carries the large early steps into the low-rate phase, PyTorch's is
# rescaled at once. Neither is wrong, but a schedule with momentum is not the same experiment in
# the two frameworks; this book's other chapters use plain SGD or a constant rate when they
# compare the two under a schedule.
#
# ## Does momentum damp oscillation?
#
# On the ravine, plain gradient descent with $\eta = 0.038$ is close to the limit $2/50$ of the
# steep direction: across the ravine it flips sign at every step, shrinking by only
# $|1 - 0.038 \cdot 50| = 0.9$ per step, while along the ravine it creeps. We follow each weight
# of the by-hand (Keras-form) runs — which the table above showed are the frameworks' runs — and
# count the **reversals** (sign changes of $w - w^\ast$) and the steps until both weights are
# within $10^{-3}$ of the minimum: plain descent; momentum 0.9 at a tenth of the rate (the same
# effective step); momentum 0.9 at the same rate; and the classical best pair for this
# curvature ratio (Polyak's heavy ball: $\mu = ((\sqrt{\kappa}-1)/(\sqrt{\kappa}+1))^2$,
# $\eta = 4/(\sqrt{\lambda_{\max}}+\sqrt{\lambda_{\min}})^2$).

# %%
kappa, lam_max, lam_min = 25.0, 50.0, 2.0
polyak = (4 / (np.sqrt(lam_max) + np.sqrt(lam_min)) ** 2, ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2)
settings = {"plain, lr 0.038": (0.038, 0.0), "momentum 0.9, lr 0.0038": (0.0038, 0.9),
            "momentum 0.9, lr 0.038": (0.038, 0.9), f"heavy ball, lr {polyak[0]:.3f}, mu {polyak[1]:.3f}": polyak}
steps_long = 10 * ravine_steps
osc_rows, paths = [], {}
for label, (lr, mu) in settings.items():
    path = by_hand(lr, mu, steps_long, "keras")
    paths[label] = path
    error = path[:, :2] - w_star[:, 0]
    reversals = (np.diff(np.sign(error), axis=0) != 0).sum(axis=0)
    close = np.flatnonzero(np.abs(error).max(axis=1) < 1e-3)
    osc_rows.append({"run": label, "effective step": lr / (1 - mu), "reversals along (flat)": int(reversals[0]),
                     "reversals across (steep)": int(reversals[1]),
                     f"steps to 1e-3 (of {steps_long})": int(close[0]) + 1 if len(close) else None})
oscillation = pd.DataFrame(osc_rows)
print(oscillation.to_string(index=False))

fig, ax = plt.subplots(figsize=(7, 4))
for i, (label, path) in enumerate(paths.items()):
    ax.plot(np.r_[0, path[:40, 0]], np.r_[0, path[:40, 1]], ".-", color=f"C{i}", lw=0.8, ms=3, label=label)
ax.plot(*w_star[:, 0], "k*", ms=12)
ax.set(xlabel="w1 (flat direction, curvature 2)", ylabel="w2 (steep direction, curvature 50)",
       title="the first 40 updates on the ravine (start at 0, star: minimum)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Momentum does damp the zig-zag across the ravine: at the same effective step the
# step-by-step sign flips become a slow swing with a fraction of the reversals, and even at the
# same raw rate (a ten times larger step) there are fewer. It pays with overshoot *along* the
# ravine, where plain descent had none, and neither momentum run reaches the minimum sooner than
# plain descent. Tuned for the curvatures (the heavy ball), momentum converges several times
# faster than plain descent: acceleration on ill-conditioned problems, more than damping, is
# what it is for.
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
    print(f"tf and torch: same diverged runs: {bool((a.diverged == b.diverged).all())}; largest |val loss gap| "
          f"over the {int(calm.sum())} runs that train well (val loss < 0.5): {float(gap[calm].max()):.0e}; "
          f"runs that differ by more than 0.01: {int((gap > 0.01).sum())} of {len(gap)}, all at the edge of "
          f"stability: {bool((a.val_loss[gap > 0.01] > 0.5).all())}")

# %% [markdown]
# The mean final validation loss over the seeds, learning rates down, momenta across (the
# figure below shows the spread between seeds):

# %%
name = FW[-1]
table = sensitivity.spread(results[name], ["momentum", "lr"], "val_loss")
means = sensitivity.heatmap_table(table, "lr", "momentum")
print(f"{name}:")
print(means.to_string(float_format=lambda v: f"{v:.3f}"))

best = table["mean"].min()
threshold = good_factor * best
per_mu = []
for mu, part in table.groupby("momentum"):
    i = int(part["mean"].to_numpy().argmin())
    good = part.lr[part["mean"] <= threshold]
    per_mu.append({"momentum": mu, "best lr": part.lr.iloc[i], "best val loss": part["mean"].iloc[i],
                   "smallest good lr": good.min(), "largest good lr": good.max(),
                   "largest good effective step": good.max() / (1 - mu),
                   "good band (decades)": sensitivity.good_band(part.lr, part["mean"], threshold)})
per_mu = pd.DataFrame(per_mu)
print(f"\nbest mean val loss {best:.3f}; 'good' means a mean val loss <= {threshold:.3f}")
print(per_mu.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# equal effective step: momentum mu at lr equals momentum 0 at lr / (1 - mu), where both grid points exist
pairs = []
plain = means[MUS[0]] if MUS[0] == 0 else None
for mu in MUS[1:] if plain is not None else []:
    for lr in means.index:
        step = lr / (1 - mu)
        match = [x for x in means.index if np.isclose(x, step, rtol=1e-6)]
        if match and plain[match[0]] <= threshold:
            pairs.append({"momentum": mu, "effective step": step, "plain": plain[match[0]], "with momentum":
                          means.loc[lr, mu], "plain at the same lr": plain[lr]})
pairs = pd.DataFrame(pairs)
if len(pairs):
    print("\nwhere plain SGD trains well: the same effective step with momentum, and the same raw lr")
    print(pairs.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
cap = 2.5
for i, (mu, part) in enumerate(table.groupby("momentum")):
    for ax, x in ((axes[0], part.lr), (axes[1], part.lr / (1 - mu))):
        ax.plot(x, np.minimum(part["mean"], cap), "o-", color=f"C{i}", ms=4, label=f"μ = {mu:g}")
        ax.fill_between(x, np.minimum(part["min"], cap), np.minimum(part["max"], cap), color=f"C{i}", alpha=0.2)
for ax, label in zip(axes, ("learning rate η", "effective step η / (1 − μ)")):
    ax.set_xscale("log")
    ax.axhline(threshold, color="grey", ls=":", lw=1)
    ax.set(xlabel=label)
axes[0].set(ylabel=f"final val loss (mean, band: {repeats} seeds; capped at {cap})",
            title=f"against the learning rate ({name})")
axes[1].set(title="against the effective step (dotted: 'good')")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# Against the raw learning rate the curves are the same shape shifted to the left: each tenfold
# step in $1/(1-\mu)$ moves the rates that train well about a decade lower. Against the
# effective step $\eta/(1-\mu)$ their rising (too small) side falls on one curve — wherever plain
# SGD trains well, momentum 0.9 at a tenth of the rate ends at almost the same loss, while at
# the *same* raw rate it ends somewhere else entirely. (At 0.99 the velocity needs about a hundred
# updates to build up, a good part of this short run, and the curve lags.) On the other side
# momentum does buy something: it keeps training at effective steps where plain SGD has already
# broken down — on a quadratic the heavy ball is stable up to $\eta < 2(1+\mu)/L''$ instead of
# $2/L''$ — so its band of good rates is wider, though it sits lower.

# %% [markdown]
# ## Verdict
#
# Each of the seed's three statements gets a number: sensitivity is the width of the good band
# for $\mu = 0.9$ against $\mu = 0$ (wider by at least a quarter of a decade counts as "less
# sensitive"); "a larger learning rate" compares the largest good rates; damping needs fewer
# reversals (along and across the ravine together) with momentum 0.9 than without, both at equal
# effective step and at equal rate. All three hold: "holds"; none: "does not hold"; else "holds
# with caveats".

# %%
row = per_mu.set_index("momentum")
mu_hi = 0.9 if 0.9 in row.index else row.index.max()
mu_lo = row.index.min()
wider = row.loc[mu_hi, "good band (decades)"] - row.loc[mu_lo, "good band (decades)"]
less_sensitive = wider >= 0.25
larger_lr = row.loc[mu_hi, "largest good lr"] > row.loc[mu_lo, "largest good lr"]
osc = oscillation.set_index("run")
reversals = osc[["reversals along (flat)", "reversals across (steep)"]].sum(axis=1)
damps = bool(reversals.iloc[1] < reversals.iloc[0] and reversals.iloc[2] < reversals.iloc[0])
parts = [less_sensitive, larger_lr, damps]
verdict = "holds" if all(parts) else "does not hold" if not any(parts) else "holds with caveats"
collapse = pairs[pairs.momentum == mu_hi] if len(pairs) else pairs
collapse_text = (f"at equal effective step mu={mu_hi:g} ends within {float((collapse['with momentum'] - collapse.plain).abs().max()):.2f} "
                 f"of plain SGD's val loss, at equal raw LR up to {float((collapse['plain at the same lr'] - collapse.plain).abs().max()):.2f} apart; "
                 if len(collapse) else "")
evidence = (f"MLP on digits, {repeats} seeds, {name}: band of good LRs (mean val loss <= {threshold:.2f}) "
            f"{row.loc[mu_lo, 'good band (decades)']:.1f} decades at mu={mu_lo:g} vs {row.loc[mu_hi, 'good band (decades)']:.1f} "
            f"at mu={mu_hi:g}; largest good LR {row.loc[mu_lo, 'largest good lr']:.2g} vs "
            f"{row.loc[mu_hi, 'largest good lr']:.2g} (as effective step lr/(1-mu): "
            f"{row.loc[mu_lo, 'largest good effective step']:.2g} vs {row.loc[mu_hi, 'largest good effective step']:.2g}); "
            f"{collapse_text}on a ravine (curvatures 2 and 50) reversals along+across: plain {reversals.iloc[0]}, "
            f"mu=0.9 at equal effective step {reversals.iloc[1]}, at equal LR {reversals.iloc[2]}")
print(f"C000-4: {verdict} — {evidence}")
lrlab.record("claim:C000-4", {"verdict": verdict, "evidence": evidence})

# %% [markdown]
# Momentum is a multiplier on the step, $1/(1-\mu)$, and most of what the seed attributes to it
# follows from that. The learning rates that work move *down* by that factor, not up: "a larger
# learning rate" is true only of the effective step $\eta/(1-\mu)$, not of the number one
# types into the optimizer. The band of good rates is wider with $\mu = 0.9$, because the heavy
# ball stays stable at effective steps where plain SGD breaks down — that part of "less
# sensitive" holds here, on a band that sits a decade lower. Oscillation across a ravine is
# damped, at the price of overshoot along it. And what momentum offers on an ill-conditioned
# loss, faster progress along the flat directions, needs $\mu$ and $\eta$ tuned together.
