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
# # MNIST-1D: a harder testbed
#
# **Seed rows covered:** the second regime for the claim parts that depend on scale (re-tested in
# the next chapter: C000-2a/b, C000-3a, C004-1c/d); the learning-rate range test of E002-1 and a
# one-cycle schedule (E002-4) run here on a small CNN.
#
# Every other chapter tests the seed claims on scikit-learn's digits with a small MLP. Digits is
# nearly solved by such a model and barely over-fits, so claims about generalisation can hardly
# show there. MNIST-1D (Greydanus & Kobak, *Scaling Down Deep Learning with MNIST-1D*, ICML 2024)
# is the community's small-compute benchmark for this kind of science: ten one-dimensional
# templates, each padded, sheared, scaled, translated and noised into signals of 40 samples. It
# is made procedurally, so `lrlab.data.mnist1d` makes it here with the `mnist1d` package's
# generator and the published seed, and nothing is downloaded. On it, small models differ
# clearly: the paper reports test accuracies of 32 % for logistic regression, 68 % for an MLP
# and 94 % for a small CNN. This chapter shows the data, reproduces those three baselines in
# both frameworks over several seeds, and runs the learning-rate range test and a schedule on
# the CNN.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # "tf", "torch" or both, comma-separated
seed: int = 0  # first initial-weight seed
repeats: int = 3  # seeds per baseline
epochs: int = 10  # epochs of every baseline and of the schedule comparison
batch_size: int = 100  # the paper's batch size
lr: float = 0.01  # Adam's constant learning rate of the baselines (the paper's)
max_lr: float = 0.02  # peak of the one-cycle schedule compared with it
range_iters: int = 100  # updates of the LR range test

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd

import lrlab
from lrlab import plots, schedules, testbed
from lrlab.data import mnist1d
from lrlab.report import glue

plots.setup()  # the book's figures, whatever the caller's matplotlib settings
P = lrlab.validate(
    globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**31 - 1), repeats=lrlab.Int(1, 20),
    epochs=lrlab.Int(1, 500), batch_size=lrlab.Int(1, 4000), lr=lrlab.Float(0, 1, low_open=True),
    max_lr=lrlab.Float(0, 1, low_open=True), range_iters=lrlab.Int(10, 1000))
FW = P.frameworks
backends = lrlab.load_backends(FW)
lrlab.seed_everything(seed)
data = mnist1d(val_fraction=0)  # the paper's split: 4000 training rows, 1000 test rows
SEEDS = range(seed, seed + repeats)
print(f"frameworks: {', '.join(FW)}; train {data.train[0].shape}, test {data.test[0].shape}; seeds {list(SEEDS)}")

# %% [markdown]
# ## The data
#
# Each signal is one of ten hand-made templates of 12 points, stretched to 40 samples and then
# randomly padded, translated, sheared, scaled and overlaid with correlated and independent noise.
# The class is the template's shape, not where it sits, which is why a model that shares weights
# across positions (a convolution) does much better than one that does not;
# {numref}`fig-15-signals` shows three training signals of each class.

# %% mystnb={"figure": {"caption": "Three training signals of each MNIST-1D class, standardised; the class is the template's shape, wherever it sits.", "name": "fig-15-signals"}} tags=["hide-input"]
groups = testbed.signals_by_class(*data.train[:1], data.labels(data.train), per_class=3)
fig, axes = plt.subplots(2, 5, figsize=(10, 3.6), sharex=True, sharey=True)
for (label, rows), ax in zip(groups.items(), axes.flat):
    ax.plot(rows.T, lw=1)
    ax.set_title(f"class {label}", fontsize=9)
fig.supxlabel("position (of 40)")
fig.supylabel("standardised value")
plt.show()

# %% [markdown]
# ## The published baselines, in both frameworks
#
# We train the paper's three models on its 4000 training rows with Adam at learning rate
# `lr` and batches of `batch_size`, for `epochs` epochs (the paper trains far longer: 6000
# updates, 150 epochs), one `fit_many` call per model and framework with `repeats`
# initial-weight seeds, and read the test accuracy of the last epoch (no epoch is chosen by its
# test score). The models: logistic regression (a linear softmax layer, 40→10), the MLP
# 40-100-100-10 with ReLU, and the CNN of three convolutions (25 channels, widths 5, 3, 3,
# stride 2) and a dense layer, `lrlab.tf.cnn()` and `lrlab.torch.cnn()`, which start from the
# same numpy initial weights. The paper's numbers are 32 %, 68 % and 94 %.

# %%
runs = {(name, fw): testbed.train_seeds(backend, spec, data.train, data.test, lr=lr, epochs=epochs, seeds=SEEDS,
                                        batch_size=batch_size)
        for name, spec in testbed.MODELS.items() for fw, backend in backends.items()}
final = pd.DataFrame({key: testbed.final_accuracy(h) for key, h in runs.items()}).T
table = pd.DataFrame({"test accuracy, mean": final.mean(axis=1), "std over seeds": final.std(axis=1, ddof=1)})
table["published"] = [testbed.PUBLISHED[name] for name, _ in table.index]
print((100 * table).round(1).to_string())

# %%
for (name, fw), row in table.iterrows():
    key = {"logistic regression": "logistic", "MLP": "mlp", "CNN": "cnn"}[name]
    glue(f"acc_{key}_{fw}", f"{100 * row['test accuracy, mean']:.1f} %", display=False)
    lrlab.record(f"mnist1d_baseline:{key}:{fw}", round(float(row["test accuracy, mean"]), 3))
gap = float((table.loc["CNN", "test accuracy, mean"] - table.loc["MLP", "test accuracy, mean"]).min())
glue("cnn_mlp_gap", f"{100 * gap:.0f} points", display=False)

# %% [markdown]
# Table above (percent) and {numref}`fig-15-baselines`: the ordering of the paper holds in both frameworks — logistic
# regression near the paper's 32 %, the MLP below the CNN by at least {glue:text}`cnn_mlp_gap`.
# After `epochs` epochs the CNN reaches {glue:text}`acc_cnn_torch` in PyTorch and
# {glue:text}`acc_cnn_tf` in TensorFlow, short of the paper's 94 % because it trains 15 times
# fewer updates; the MLP reaches {glue:text}`acc_mlp_torch` (PyTorch) against the paper's 68 %;
# logistic regression {glue:text}`acc_logistic_torch`. Both frameworks start from the same
# weights and see the same batches; their rows still differ a little, because Keras rounds Adam's
# $\beta_1$, $\beta_2$ through float32 and Adam's normalised steps amplify that difference (the
# parity tests measure it; with float32-exact hyperparameters the two agree to $10^{-10}$). The
# gap between the frameworks is within the spread over seeds.

# %% mystnb={"figure": {"caption": "Test accuracy per epoch of the three published baselines, mean over `repeats` seeds, in both frameworks (PyTorch solid, TensorFlow dashed); dotted lines: the published accuracies.", "name": "fig-15-baselines"}} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 3.5))
for (name, fw), history in runs.items():
    curve = history.groupby("epoch").val_accuracy.mean()
    ax.plot(curve.index + 1, 100 * curve, ls="-" if fw == "torch" else "--", label=f"{name} ({fw})")
for value in testbed.PUBLISHED.values():
    ax.axhline(100 * value, color="grey", lw=0.6, ls=":")
ax.set(xlabel="epoch", ylabel="test accuracy (%)",
       title="test accuracy per epoch, mean over seeds; dotted: published")
ax.legend(fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# ## The LR range test on the CNN
#
# The range test (chapter 4) raises the learning rate of plain SGD exponentially from $10^{-4}$
# to $10$ over `range_iters` updates of batches of `batch_size` and records the smoothed loss;
# fastai's "valley" rule suggests a rate in the steepest stretch of the descent.

# %%
tests = {fw: b.lr_range_test(b.cnn(seed=seed), data.train, optimizer="sgd", loss="categorical_crossentropy",
                             start_lr=1e-4, end_lr=10.0, num_it=range_iters, batch_size=batch_size)
         for fw, b in backends.items()}
for fw, result in tests.items():
    glue(f"valley_{fw}", f"{result.suggestion('valley'):.2g}", display=False)
print({fw: f"{r.suggestion('valley'):.2g}" for fw, r in tests.items()})

# %% mystnb={"figure": {"caption": "LR range test of the CNN with plain SGD: smoothed training loss as the rate grows exponentially over `range_iters` updates (TensorFlow solid, PyTorch dashed).", "name": "fig-15-range-test"}} tags=["hide-input"]
ax = plots.loss_vs_lr({fw: (r.history.lr, r.history.smooth_loss) for fw, r in tests.items()}, ylabel="smoothed loss",
                      title="LR range test of the CNN", marker="")
plt.show()

# %% [markdown]
# {numref}`fig-15-range-test` shows the smoothed loss against the rate in both frameworks. The valley rule suggests an SGD learning rate of {glue:text}`valley_torch` (PyTorch) and
# {glue:text}`valley_tf` (TensorFlow) for the CNN.
#
# ## A schedule on the CNN
#
# Does a one-cycle schedule (Smith & Topin: warm up to `max_lr` over the first 30 % of the
# updates, then anneal by cosine to $1/10^4$ of the start) beat Adam's constant `lr` at the same
# budget? Same seeds, same batches, same `epochs`; the constant runs are the baselines above.

# %%
steps = epochs * -(-len(data.train[0]) // batch_size)
cycle = schedules.make("one_cycle", max_lr=max_lr, total_steps=steps)
scheduled = {fw: testbed.train_seeds(b, testbed.MODELS["CNN"], data.train, data.test, lr=cycle, epochs=epochs,
                                     seeds=SEEDS, batch_size=batch_size) for fw, b in backends.items()}
compare = pd.DataFrame({fw: {"constant": testbed.final_accuracy(runs["CNN", fw]).mean(),
                             "one-cycle": testbed.final_accuracy(h).mean()} for fw, h in scheduled.items()})
print((100 * compare).round(1).to_string())
for fw in compare:
    glue(f"cycle_{fw}", f"{100 * compare.loc['one-cycle', fw]:.1f} %", display=False)

# %% [markdown]
# With the one-cycle schedule the CNN ends at {glue:text}`cycle_torch` (PyTorch) and
# {glue:text}`cycle_tf` (TensorFlow), against {glue:text}`acc_cnn_torch` and
# {glue:text}`acc_cnn_tf` at a constant rate (table above; test accuracy of the last epoch, mean
# over `repeats` seeds).
#
# **Scope.** MNIST-1D as the paper made it (4000/1000 rows), `epochs` epochs of Adam, `repeats`
# seeds, float64 in both frameworks. The baselines are short runs; the paper's CNN trains 15
# times longer.

# %% [markdown]
# ## Verdict on the baselines
#
# The rule, fixed before the runs: the published baselines count as reproduced in a framework
# when, in every seed, logistic regression < MLP < CNN in test accuracy (the paper's ordering),
# and logistic regression — a convex model that converges in far fewer updates than the paper
# gives it — lands within $3$ points of the paper's $32$ %. The MLP's and the CNN's levels are not
# part of the rule: our runs are fifteen times shorter than the paper's.

# %%
order = ["logistic regression", "MLP", "CNN"]
for fw in FW:
    per_seed = final.xs(fw, level=1).loc[order]  # rows: models, columns: seeds
    ordered = bool((per_seed.diff().iloc[1:] > 0).all().all())
    near = abs(float(per_seed.loc["logistic regression"].mean()) - testbed.PUBLISHED["logistic regression"]) <= 0.03
    word = "reproduced" if ordered and near else "not reproduced"
    print(f"{fw}: ordering in every seed: {ordered}; logistic regression within 3 points of 32 %: {near} -> {word}")
    glue(f"baselines_{fw}", word, display=False)

# %% [markdown]
# In TensorFlow the baselines are {glue:text}`baselines_tf`, in PyTorch {glue:text}`baselines_torch`
# by this rule. This chapter decides no claim part; the parts that depend on scale are re-tested
# on these data in the next chapter.

