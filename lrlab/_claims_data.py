"""The fixed facts behind the claims page: claims, their parts, the published figures, the page's fixed text.

Copied here (not read from ``../shared`` at build time) so that ``book/claims.md``
comes out the same on every machine, with or without the shared folder beside
the checkout. ``tests/test_claims.py`` compares these tables with
``shared/seed-catalogue.md`` and ``shared/references.md`` wherever those files
are present, so a change there cannot go unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BEARINGS", "CATALOGUE", "CANNOT_SHOW", "PARTS", "REFERENCES", "Bearing", "Claim", "Part",
           "Reference"]


@dataclass(frozen=True)
class Claim:
    """One C row of the seed catalogue: its id, the claim in the book's words, the seed it comes from."""

    id: str
    seed: str
    text: str


@dataclass(frozen=True)
class Part:
    """One part of a claim (``shared/seed-catalogue.md``, "The parts of each claim")."""

    id: str  # "C004-1d"
    text: str

    @property
    def claim(self) -> str:
        return self.id[:-1]


#: every C row of ``shared/seed-catalogue.md``, in its order, paraphrased (never the seeds' sentences)
CATALOGUE = (
    Claim("C000-1", "000", "A learning rate that is too large makes the loss oscillate or diverge; one that is "
                           "too small makes progress slow and can stall it."),
    Claim("C000-2", "000", "Batch size and learning rate have to be tuned together. The seed says both that "
                           "larger batches permit a larger learning rate and that a growing batch may call for "
                           "a smaller one."),
    Claim("C000-3", "000", "Very large batches can end in worse solutions (a generalisation gap) and cost more "
                           "memory."),
    Claim("C000-4", "000", "Momentum makes training less sensitive to the learning rate, permits a larger one "
                           "and damps oscillation."),
    Claim("C001-1", "001", "Step decay, exponential decay and cosine annealing are the standard families for "
                           "lowering the learning rate during training."),
    Claim("C001-2", "001", "Tune with a grid over initial rate, decay rate and decay steps; find the range with "
                           "an LR range test; stop early and keep the best checkpoint; fine-tune a pre-trained "
                           "model with a smaller rate."),
    Claim("C002-1", "002", "Adam is less sensitive to the learning rate than SGD, and AdamW handles weight decay "
                           "better than Adam."),
    Claim("C002-2", "002", "A cyclical learning rate helps training leave local minima and can find the global "
                           "minimum."),
    Claim("C003-1", "003", "Learning rate and batch size are the hyperparameters that matter most; the "
                           "strength of L1/L2 regularisation and Adam's β1 and β2 matter too."),
    Claim("C003-2", "003", "Hyperparameters interact: a higher learning rate may want a smaller batch, and a "
                           "high learning rate together with strong regularisation can hurt."),
    Claim("C003-3", "003", "In a large search space random search finds a good combination sooner than grid "
                           "search; Bayesian optimisation costs more per trial but finds better points."),
    Claim("C003-4", "003", "A framework's default hyperparameters are not always the right ones, and a simple "
                           "grid search is often enough to do better."),
    Claim("C004-1", "004", "Too large a learning rate overshoots, blows up the gradients and makes the loss "
                           "oscillate; too small a one is slow, over-fits easily and gets stuck in local "
                           "optima."),
    Claim("C004-2", "004", "Start at a learning rate between 0.01 and 0.001 and decay it by more than 100x by "
                           "the end of training."),
)

#: the 38 parts of ``shared/seed-catalogue.md`` ("The parts of each claim"), in its order and words
PARTS = (
    Part("C000-1a", "too large an LR makes the loss oscillate"),
    Part("C000-1b", "too large an LR makes training diverge"),
    Part("C000-1c", "too small an LR makes progress slow"),
    Part("C000-1d", "too small an LR can stall training"),
    Part("C000-2a", "larger batches allow a larger LR (test: the linear scaling rule, Goyal et al. 2017)"),
    Part("C000-2b", "when the batch grows, the LR may have to be lowered"),
    Part("C000-3a", "very large batches end in worse solutions (a generalisation gap), at equal epochs and at "
                    "equal training loss"),
    Part("C000-3b", "very large batches cost more memory (measured, not argued)"),
    Part("C000-4a", "momentum makes training less sensitive to the LR (a wider band of good LRs)"),
    Part("C000-4b", "momentum allows a larger LR"),
    Part("C000-4c", "momentum damps oscillation"),
    Part("C001-1a", "step, exponential and cosine decay are standard, each available natively in Keras and "
                    "PyTorch and each matching its formula"),
    Part("C001-1b", "cosine annealing changes the LR periodically within a fixed range (seed 001's own "
                    "description; true only with restarts)"),
    Part("C001-2a", "a grid over initial LR × decay rate × decay steps finds a schedule better than the best "
                    "constant LR"),
    Part("C001-2b", "an LR range test (linear or exponential ramp) finds a good initial LR"),
    Part("C001-2c", "early stopping with a checkpoint of the best model gives a better model than training to "
                    "the end"),
    Part("C001-2d", "a smaller LR is better for fine-tuning a pre-trained model"),
    Part("C002-1a", "Adam is less sensitive to the LR than SGD"),
    Part("C002-1b", "AdamW (decoupled weight decay) controls weight decay better than Adam with an L2 penalty"),
    Part("C002-2a", "a cyclical LR helps training leave local minima"),
    Part("C002-2b", "a cyclical LR can find the global minimum"),
    Part("C003-1a", "the LR and the batch size are the hyperparameters that matter most"),
    Part("C003-1b", "the strength of L1/L2 regularisation matters"),
    Part("C003-1c", "Adam's β1 and β2 matter"),
    Part("C003-2a", "a higher LR may want a smaller batch"),
    Part("C003-2b", "a high LR together with strong regularisation can hurt"),
    Part("C003-3a", "in a large space random search finds a good combination sooner than grid search"),
    Part("C003-3b", "Bayesian optimisation (TPE) costs more per trial"),
    Part("C003-3c", "Bayesian optimisation finds better points than random search at equal budget"),
    Part("C003-4a", "a framework's default hyperparameters are not always the right ones"),
    Part("C003-4b", "a simple grid search is often enough to do better than the defaults"),
    Part("C004-1a", "too large an LR overshoots and makes the loss oscillate"),
    Part("C004-1b", "too large an LR makes the gradients explode (measured as gradient norms)"),
    Part("C004-1c", "too small an LR is slow"),
    Part("C004-1d", "too small an LR over-fits easily"),
    Part("C004-1e", "too small an LR gets stuck in local optima"),
    Part("C004-2a", "the best initial LR lies between 0.001 and 0.01"),
    Part("C004-2b", "decaying the LR by more than 100× by the end of training helps"),
)


@dataclass(frozen=True)
class Reference:
    """A published result the book sets its own beside (``shared/references.md``, or the bibliography)."""

    key: str  # its key in book/references.bib
    paper: str  # short name, as the page prints it
    claims: str  # what the paper claims or shows, in the book's words
    figure: str  # its headline figure, with where it was checked
    #: the start of its row in shared/references.md ("" for a paper that the file does not list)
    shared: str = ""


#: the published figures, copied from ``shared/references.md`` (papers it does not list say so: ``shared=""``)
REFERENCES = {r.key: r for r in (
    Reference("smith2017cyclical", "Smith, Cyclical learning rates",
              "the LR range test reads usable bounds off one short run with a rising LR; a triangular cyclical "
              "LR trains as well as a tuned fixed one",
              "CIFAR-10: a cyclical LR reaches 81.4 % in 25,000 iterations, where a fixed LR needs 70,000 "
              "(secondary summary; unverified)",
              shared="L. N. Smith, *Cyclical Learning Rates"),
    Reference("smith2019superconvergence", "Smith & Topin, Super-convergence",
              "one LR cycle up to a large maximum LR trains an order of magnitude faster",
              "ResNet-56 on CIFAR-10, a piecewise-constant LR of 0.35 against a cycle between 0.1 and 3.0 (exact "
              "accuracies unverified)",
              shared="L. N. Smith, N. Topin"),
    Reference("loshchilov2017sgdr", "Loshchilov & Hutter, SGDR",
              "cosine annealing with warm restarts",
              "3.14 % test error on CIFAR-10, 16.21 % on CIFAR-100 (abstract)",
              shared="I. Loshchilov, F. Hutter, *SGDR"),
    Reference("loshchilov2019adamw", "Loshchilov & Hutter, Decoupled weight decay",
              "L2 regularisation and weight decay are not the same for Adam; decoupling makes the best weight "
              "decay independent of the LR",
              "qualitative: Adam with decoupled weight decay competes with SGD with momentum on image "
              "classification (abstract)",
              shared="I. Loshchilov, F. Hutter, *Decoupled"),
    Reference("goyal2017accurate", "Goyal et al., Large minibatch SGD",
              "linear scaling rule: multiply the LR by k when the batch grows k times, with a gradual warmup "
              "over the first 5 epochs",
              "ResNet-50 on ImageNet, minibatch 8192 on 256 GPUs in one hour with no loss of accuracy; about "
              "90 % scaling efficiency from 8 to 256 GPUs (abstract)",
              shared="P. Goyal et al."),
    Reference("keskar2017largebatch", "Keskar et al., Large-batch training",
              "large-batch training tends to converge to sharp minima that generalise worse",
              "qualitative (abstract)"),
    Reference("hoffer2017train", "Hoffer, Hubara & Soudry, Train longer, generalize better",
              "the generalisation gap of large batches comes from too few updates, not from the batch size "
              "itself, and closes when the training regime is adapted",
              "qualitative (abstract)"),
    Reference("bergstra2012random", "Bergstra & Bengio, Random search",
              "random search finds models as good as or better than grid search, because few hyperparameters "
              "matter",
              "qualitative in the abstract: \"within a small fraction of the computation time\"",
              shared="J. Bergstra, Y. Bengio"),
    Reference("bergstra2011algorithms", "Bergstra et al., Algorithms for hyper-parameter optimization",
              "the tree-structured Parzen estimator (TPE), the sampler behind Optuna's Bayesian search",
              "qualitative"),
    Reference("howard2020fastai", "fastai's lr_find and fit_one_cycle",
              "a widely used LR range test and one-cycle policy",
              "lr_find: start 1e-7, end 10, 100 iterations, exponential ramp, smoothed loss (β = 0.98), stops "
              "when the smoothed loss exceeds 4 × its best; fit_one_cycle: div 25, final div 1e5, pct_start "
              "0.25, cosine phases",
              shared="fastai `"),
    Reference("zhang2023d2l", "Dive into Deep Learning, §12.11",
              "square-root, factor, multi-factor, cosine and warmup schedulers on LeNet and Fashion-MNIST",
              "no numbers in the prose; printed outputs only",
              shared="Dive into Deep Learning"),
    Reference("li2019towards", "Li, Wei & Ma, The regularization effect of an initial large LR",
              "a network trained with a large initial LR and then annealed generalises better than the same "
              "network trained with a small LR from the start, which memorises the easy-to-fit patterns first",
              "qualitative: a proof for a two-layer network, and a CIFAR-10 experiment with an added patch that "
              "a small-LR model memorises at once (abstract)"),
    Reference("greydanus2024mnist1d", "Greydanus & Kobak, MNIST-1D",
              "a procedurally generated 40-dimensional, 10-class data set (4000 train / 1000 test by default) "
              "on which small models differ clearly, made locally by the mnist1d package",
              "test accuracy: logistic regression 32 %, MLP 68 %, CNN 94 % (GRU 91 %; abstract and project "
              "page)",
              shared="S. Greydanus, D. Kobak"),
)}


@dataclass(frozen=True)
class Bearing:
    """How one published result bears on one claim: the paper, the parts it speaks to, in a sentence."""

    claim: str
    key: str
    parts: tuple
    how: str


#: the published results set beside each claim (a claim not listed here has none that bears on it directly)
BEARINGS = (
    Bearing("C000-2", "goyal2017accurate", ("C000-2a", "C000-2b"),
            "the linear scaling rule is the precise form of C000-2a; it is stated to fail at the very largest "
            "batches, where C000-2b's lower LR would be the remedy"),
    Bearing("C000-3", "keskar2017largebatch", ("C000-3a",),
            "reports the gap at equal epochs and ties it to sharp minima"),
    Bearing("C000-3", "hoffer2017train", ("C000-3a",),
            "argues the gap is a budget of updates: at equal training loss, rather than equal epochs, it "
            "should close, which is why C000-3a is tested both ways"),
    Bearing("C001-1", "loshchilov2017sgdr", ("C001-1a", "C001-1b"),
            "cosine annealing is periodic only with warm restarts, the distinction C001-1b turns on"),
    Bearing("C001-1", "zhang2023d2l", ("C001-1a",),
            "the same families as library schedulers, without measured comparisons"),
    Bearing("C001-2", "smith2017cyclical", ("C001-2b",),
            "the origin of the LR range test (a linear ramp)"),
    Bearing("C001-2", "howard2020fastai", ("C001-2b",),
            "the exponential-ramp range test most readers use, with its stopping rule and suggestions"),
    Bearing("C002-1", "loshchilov2019adamw", ("C002-1b",),
            "the source of the decoupled weight decay that C002-1b credits to AdamW"),
    Bearing("C002-2", "smith2017cyclical", ("C002-2a", "C002-2b"),
            "claims faster training with a cyclical LR, not that it finds a global minimum"),
    Bearing("C002-2", "smith2019superconvergence", ("C002-2a",),
            "a single large cycle as a way to train faster"),
    Bearing("C003-1", "bergstra2012random", ("C003-1a",),
            "few hyperparameters matter on a given data set, and which ones differs between data sets"),
    Bearing("C003-2", "goyal2017accurate", ("C003-2a",),
            "pairs a larger batch with a larger LR, the opposite direction to C003-2a's"),
    Bearing("C003-3", "bergstra2012random", ("C003-3a",),
            "the source of C003-3a"),
    Bearing("C003-3", "bergstra2011algorithms", ("C003-3b", "C003-3c"),
            "the TPE sampler whose cost per trial and quality C003-3b and C003-3c describe"),
    Bearing("C004-1", "li2019towards", ("C004-1d",),
            "predicts a generalisation cost of a small initial LR, the mechanism C004-1d would need"),
    Bearing("C004-2", "smith2019superconvergence", ("C004-2a",),
            "trains well with LRs far above 0.01 on a residual network, outside C004-2a's range"),
    Bearing("C004-2", "howard2020fastai", ("C004-2b",),
            "the one-cycle policy ends its LR many orders of magnitude below its peak, far beyond 100×"),
)

#: what the digits evidence of this book cannot show, whatever the verdicts say
CANNOT_SHOW = (
    "Scale. Every experiment fits on two CPU cores: small data sets and small networks trained for a few "
    "epochs. A part that holds here may fail on a convolutional or transformer model trained for days, and one "
    "that does not hold here may hold there; the published figures beside each claim are measured at that "
    "other scale.",
    "Other data. The digits regime is one easy data set on which a small MLP reaches high accuracy quickly; "
    "effects that need over-fitting capacity, hard examples or long training (C004-1d, C000-3a) may not show. "
    "MNIST-1D, on which small models differ clearly, is the planned second regime.",
    "Other optimisers, schedules and settings. A verdict covers the optimiser, the ranges of LRs, batch sizes "
    "and other settings its chapter swept; it says nothing outside them.",
    "Hardware effects. Memory and time are measured on this CPU with these framework versions; a GPU's memory "
    "use and speed per batch follow other rules.",
    "Causes. A verdict says whether an effect was measured, not why; where a chapter offers a mechanism, it is "
    "an explanation of the measurement, not a second measurement.",
    "Small effects. With a handful of seeds, an effect within {noise_multiple} seed-to-seed standard "
    "deviations of zero is reported as inconclusive; it may be real and small.",
)
