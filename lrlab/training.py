"""What the two training backends share, free of any framework.

:mod:`lrlab.tf` and :mod:`lrlab.torch` make the framework calls; everything
that decides *what* those calls compute lives here, once, so that the two
frameworks run the same experiment:

* the model spec of ``mlp`` (:class:`MLPSpec`) and of ``cnn`` (:class:`CNNSpec`,
  a small 1-D CNN) and their initial weights, drawn once in numpy
  (Glorot-uniform kernels, zero biases), so both frameworks start identical;
* the optimizer spec of ``optimizer``: lrlab's defaults, the same in both
  frameworks (the backends document how each maps onto the native class);
* losses and metrics by name, and which output activation each needs;
* the batch order: one seeded numpy permutation per epoch, shared by both;
* the epoch loop of ``fit`` (:func:`run_epochs`): history table, divergence
  status, callbacks — around a backend's compiled epoch;
* :func:`descend`'s checks and result table (E000-1, E004-1, E004-4).

Nothing here imports TensorFlow or PyTorch.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lrlab.params import ParameterError, check_bool, check_choice, check_int, check_number

__all__ = [
    "ACTIVATIONS",
    "CNNSpec",
    "adam_epsilon",
    "DESCEND_COLUMNS",
    "LOSSES",
    "METRICS",
    "MLPSpec",
    "OPTIMIZERS",
    "OUTPUT_ACTIVATIONS",
    "OptimizerSpec",
    "TrainerBase",
    "check_data",
    "check_descend",
    "check_fit",
    "check_loss_metric",
    "check_cnn",
    "check_lr",
    "check_mlp",
    "check_optimizer",
    "check_weights",
    "descend_table",
    "DIVERGENCE_FACTOR",
    "FitPlan",
    "epoch_orders",
    "holdout",
    "initial_loss",
    "initial_losses",
    "initial_weights",
    "is_diverged",
    "is_schedule",
    "one_hot",
    "run_epochs",
]

#: the columns of ``descend``, in order
DESCEND_COLUMNS = ("step", "lr_used", "lr_next", "loss", "w")
#: hidden-layer activations of ``mlp``
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
#: output activations of ``mlp``
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax", "linear")
#: loss name -> the output activation it needs (None: any). Cross-entropies are
#: computed from the logits (the output before its activation) in both frameworks.
LOSSES = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax", "mse": None}
#: metric name -> the losses it goes with
METRICS = {"accuracy": ("binary_crossentropy", "categorical_crossentropy"), "mae": tuple(LOSSES)}
#: optimizer name -> lrlab's defaults for its hyperparameters (the same in both frameworks)
OPTIMIZERS = {
    "sgd": {"weight_decay": 0.0},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "adam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    "adamw": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "weight_decay": 0.01},
    "rmsprop": {"rho": 0.9, "epsilon": 1e-8},
}
#: allowed range of each optimizer hyperparameter: (low, high, high_open)
_HYPER_RANGES = {"weight_decay": (0.0, None, False), "momentum": (0.0, 1.0, True), "beta_1": (0.0, 1.0, True),
                 "beta_2": (0.0, 1.0, True), "epsilon": (0.0, None, False), "rho": (0.0, 1.0, True)}


# ----------------------------------------------------------------------------------------
# learning rates and descend
# ----------------------------------------------------------------------------------------
def is_schedule(lr) -> bool:
    """Return True when ``lr`` is an lrlab schedule (it converts to both frameworks)."""
    return callable(lr) and hasattr(lr, "to_keras") and hasattr(lr, "to_torch")


def check_lr(lr, name: str = "lr"):
    """Return ``lr`` checked: a finite float >= 0, or an lrlab schedule (returned as is)."""
    if is_schedule(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise ParameterError(f"{name} = {lr!r} is not allowed; expected a finite number >= 0 "
                             "or an lrlab schedule (lrlab.schedules.make(...))")
    return check_number(name, lr, low=0)


def check_descend(loss, w0, lr, steps):
    """Return ``(loss, w0, lr, steps)`` checked for ``descend``."""
    if not callable(loss):
        raise ParameterError(f"loss = {loss!r} is not allowed; expected a function of the weight")
    return loss, check_number("w0", w0), check_lr(lr), check_int("steps", steps, low=0)


def descend_table(rows) -> pd.DataFrame:
    """Return the ``descend`` rows as a DataFrame: ``step`` int, the rest float32.

    Each row is ``(step, lr_used, lr_next, loss, w)``; the values stay float32
    so that ``'%g' % value`` prints what a float32 TF1 program printed.
    """
    rows = list(rows)
    return pd.DataFrame({
        "step": np.array([r[0] for r in rows], dtype=np.int64),
        **{name: np.array([r[i] for r in rows], dtype=np.float32)
           for i, name in enumerate(DESCEND_COLUMNS[1:], start=1)},
    })


# ----------------------------------------------------------------------------------------
# models: the layer spec and the initial weights
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MLPSpec:
    """A multilayer perceptron: layer widths (input first), activations and dtype.

    lrlab trains in **float64 by default**, where both frameworks default to
    float32. The book's printed numbers must come out again on any CPU, and
    CPUs differ in their vector kernels (fused multiply-add or not, summation
    order): in float32 those rounding differences (~1e-7) grow through a few
    thousand updates to the third decimal of a validation loss; in float64 they
    stay far below anything the book prints (measured: seed-001 Adam runs agree
    to 10 digits under the native and the emulated kernels of
    :mod:`lrlab.kernels`, against 1e-6 in float32). Pass ``dtype="float32"`` for
    the frameworks' own precision.
    """

    sizes: tuple
    activation: str = "relu"
    output_activation: str = "sigmoid"
    dtype: str = "float64"

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Return the ``(fan_in, fan_out)`` of each dense layer."""
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    def as_dict(self) -> dict:
        return {"sizes": list(self.sizes), "activation": self.activation,
                "output_activation": self.output_activation, "dtype": self.dtype}


@dataclass(frozen=True)
class CNNSpec:
    """A small 1-D CNN: convolutions over a signal of ``length`` samples, then one dense layer (MNIST-1D).

    The input row ``(length,)`` is one channel; each convolution j has
    ``channels[j]`` filters of width ``kernel_size[j]``, moves by ``stride`` and
    sees ``padding`` zeros added at both ends (PyTorch's ``Conv1d(padding=p)``;
    Keras: ``ZeroPadding1D(p)`` then a ``"valid"`` ``Conv1D``), then
    ``activation``. The last feature map is flattened channels-last (position
    major, Keras's ``Flatten``; torch transposes before flattening) into a dense
    layer to ``classes`` logits, then ``output_activation``. The defaults are
    the CNN of Greydanus & Kobak (MNIST-1D, 94 % test accuracy): three
    convolutions of 25 channels, widths 5, 3, 3, stride 2, padding 1, lengths
    40 → 19 → 10 → 5, dense 125 → 10. Weights in lrlab's layout: conv kernels
    ``(width, in_channels, out_channels)`` (Keras's), the dense kernel
    ``(125, classes)``, biases ``(out,)``. Trains in float64 by default, as
    :class:`MLPSpec`.
    """

    length: int = 40
    channels: tuple = (25, 25, 25)
    kernel_size: tuple = (5, 3, 3)
    stride: int = 2
    padding: int = 1
    classes: int = 10
    activation: str = "relu"
    output_activation: str = "softmax"
    dtype: str = "float64"

    @property
    def lengths(self) -> list[int]:
        """Return the signal length before the first convolution and after each."""
        out = [self.length]
        for k in self.kernel_size:
            out.append((out[-1] + 2 * self.padding - k) // self.stride + 1)
        return out

    @property
    def sizes(self) -> tuple:
        """Return ``(input width, output width)``: what the rows of ``x`` and ``y`` hold."""
        return (self.length, self.classes)

    @property
    def shapes(self) -> list[tuple]:
        """Return each layer's kernel shape: ``(width, in, out)`` per convolution, then ``(flat, classes)``."""
        ins = (1,) + tuple(self.channels[:-1])
        convs = [(k, c_in, c_out) for k, c_in, c_out in zip(self.kernel_size, ins, self.channels)]
        return convs + [(self.lengths[-1] * self.channels[-1], self.classes)]

    def as_dict(self) -> dict:
        return {"kind": "cnn", "length": self.length, "channels": list(self.channels),
                "kernel_size": list(self.kernel_size), "stride": self.stride, "padding": self.padding,
                "classes": self.classes, "activation": self.activation,
                "output_activation": self.output_activation, "dtype": self.dtype}


def _whole(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ParameterError(f"{name} = {value!r} is not allowed; expected a whole number >= {low}")
    return int(value)


def check_cnn(channels=(25, 25, 25), kernel_size=(5, 3, 3), classes=10, activation="relu",
              output_activation="softmax", *, length=40, stride=2, padding=1, dtype="float64") -> CNNSpec:
    """Return the :class:`CNNSpec` of ``cnn(...)`` after checking every argument.

    ``kernel_size`` is one width for every convolution or one per convolution;
    every feature map must keep at least one position.
    """
    if not isinstance(channels, (list, tuple)) or not channels:
        raise ParameterError(f"channels = {channels!r} is not allowed; expected a list of >= 1 whole numbers >= 1")
    channels = tuple(_whole("channels", c, 1) for c in channels)
    widths = (kernel_size,) * len(channels) if isinstance(kernel_size, numbers.Integral) else kernel_size
    if not isinstance(widths, (list, tuple)) or len(widths) != len(channels):
        raise ParameterError(f"kernel_size = {kernel_size!r} is not allowed; expected a whole number or one per "
                             f"convolution ({len(channels)})")
    spec = CNNSpec(_whole("length", length, 1), channels, tuple(_whole("kernel_size", k, 1) for k in widths),
                   _whole("stride", stride, 1), _whole("padding", padding, 0), _whole("classes", classes, 1),
                   check_choice("activation", activation, ACTIVATIONS),
                   check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS),
                   check_choice("dtype", dtype, ("float32", "float64")))
    if min(spec.lengths) < 1:
        raise ParameterError(f"kernel_size = {kernel_size!r} is not allowed with length = {length}: the feature "
                             f"maps would have lengths {spec.lengths}; every one needs >= 1 position")
    return spec


def _initial_cnn_weights(spec: CNNSpec, rng) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return a CNN's ``[(kernel, bias), ...]``: Glorot-uniform with Keras's fans (receptive field × channels)."""
    weights = []
    for shape in spec.shapes:
        receptive = math.prod(shape[:-2])
        limit = math.sqrt(6.0 / (receptive * shape[-2] + receptive * shape[-1]))
        kernel = rng.uniform(-limit, limit, size=shape).astype(spec.dtype)
        weights.append((kernel, np.zeros(shape[-1], dtype=spec.dtype)))
    return weights


def windows(h, spec: CNNSpec, j: int):
    """Return the im2col patches of feature map ``h (..., length, channels)`` for convolution j.

    The result is ``(..., out_length, width·channels)``, patch entry ``i·channels
    + c`` being input position ``stride·t + i − padding``, channel ``c`` — the
    row order of the conv kernel ``(width, in, out)`` reshaped to ``(width·in,
    out)``. numpy; the batched trainers do the same in their framework.
    """
    k, (p, s), n_out = spec.kernel_size[j], (spec.padding, spec.stride), spec.lengths[j + 1]
    pad = [(0, 0)] * (h.ndim - 2) + [(p, p), (0, 0)]
    hp = np.pad(h, pad)
    parts = [hp[..., i:i + s * (n_out - 1) + 1:s, :] for i in range(k)]
    return np.concatenate(parts, axis=-1)


def _np_cnn_logits(spec: CNNSpec, weights, x):
    """Return the ``(M, n, classes)`` logits of M CNNs with stacked ``weights`` on rows ``x`` (float64 numpy)."""
    hidden = _NP_ACTIVATIONS[spec.activation]
    h = np.asarray(x, np.float64)[None, :, :, None]
    for j, (kernel, bias) in enumerate(weights[:-1]):
        kernel = np.asarray(kernel, np.float64)
        patches = windows(h, spec, j)
        flat = kernel.reshape(len(kernel), 1, -1, kernel.shape[-1])
        h = hidden(patches @ flat + np.asarray(bias, np.float64)[:, None, None, :])
    kernel, bias = weights[-1]
    h = h.reshape(h.shape[0], h.shape[1], -1)
    return h @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64)[:, None, :]


def check_mlp(layers, activation, output_activation, dtype="float64") -> MLPSpec:
    """Return the :class:`MLPSpec` of ``mlp(layers, ...)`` after checking every argument.

    ``layers`` lists the widths from the input to the output, e.g. ``(20, 64, 32, 1)``
    for the seed-001 network (E001-1/2): at least an input and an output width.
    """
    sizes = tuple(layers) if isinstance(layers, (list, tuple)) else None
    if sizes is None or len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, numbers.Integral)
                                                or s < 1 for s in sizes):
        raise ParameterError(f"layers = {layers!r} is not allowed; expected a list of >= 2 whole numbers >= 1 "
                             "(input width, hidden widths..., output width)")
    return MLPSpec(tuple(int(s) for s in sizes), check_choice("activation", activation, ACTIVATIONS),
                   check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS),
                   check_choice("dtype", dtype, ("float32", "float64")))


def initial_weights(spec: MLPSpec, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return ``[(kernel, bias), ...]`` drawn once in numpy: Glorot-uniform kernels, zero biases.

    Kernel j has shape ``(fan_in, fan_out)`` (Keras's layout; torch's ``Linear``
    takes its transpose) and entries ``~ U(−a, a)``, ``a = sqrt(6 / (fan_in +
    fan_out))`` (Glorot & Bengio 2010, Keras's default initializer), all from
    one ``numpy.random.default_rng(seed)`` layer after layer.
    """
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    rng = np.random.default_rng(seed)
    if isinstance(spec, CNNSpec):
        return _initial_cnn_weights(spec, rng)
    weights = []
    for fan_in, fan_out in spec.shapes:
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        kernel = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(spec.dtype)
        weights.append((kernel, np.zeros(fan_out, dtype=spec.dtype)))
    return weights


def check_weights(spec: MLPSpec, weights) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return ``weights`` as ``[(kernel (in, out), bias (out,)), ...]`` in the spec's dtype, checked against it."""
    expected = [(tuple(shape), (shape[-1],)) for shape in spec.shapes]
    try:
        pairs = [(np.asarray(k, dtype=spec.dtype), np.asarray(b, dtype=spec.dtype)) for k, b in weights]
    except (TypeError, ValueError):
        pairs = None
    if pairs is None or [(k.shape, b.shape) for k, b in pairs] != expected:
        raise ParameterError(f"weights do not fit layers {list(spec.sizes)}; expected (kernel, bias) pairs "
                             f"shaped {expected}")
    return [(k.copy(), b.copy()) for k, b in pairs]


# ----------------------------------------------------------------------------------------
# optimizers, losses, metrics
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer by name, its LR (a float or an lrlab schedule) and its hyperparameters."""

    name: str
    lr: object
    hyper: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.hyper.items())
        return f"optimizer({self.name!r}, lr={self.lr!r}{extra})"


def check_optimizer(name, lr, **kw) -> OptimizerSpec:
    """Return the :class:`OptimizerSpec` of ``optimizer(name, lr, **kw)``: lrlab's defaults filled in.

    Allowed keywords per optimizer and their defaults are :data:`OPTIMIZERS`;
    ``weight_decay`` exists only where both frameworks apply it the same way
    (``sgd``: decay and L2 coincide without momentum; ``adamw``: decoupled in both).
    """
    check_choice("name", name, tuple(OPTIMIZERS))
    lr = check_lr(lr)
    hyper = dict(OPTIMIZERS[name])
    for key, value in kw.items():
        if key not in hyper:
            allowed = ", ".join(hyper) or "none"
            raise ParameterError(f"{key} = {value!r} is not allowed for optimizer {name!r}; its keywords: {allowed}")
        low, high, high_open = _HYPER_RANGES[key]
        hyper[key] = check_number(key, value, low=low, high=high, high_open=high_open)
    return OptimizerSpec(name, lr, hyper)


def adam_epsilon(epsilon: float, beta_2: float, t: int) -> float:
    """Return the ε torch's Adam must add to √v̂_t to compute Keras's update at step ``t`` (1-based).

    Keras (and Kingma & Ba's "efficient" form, §2) add ε to the *uncorrected*
    √v_t: ``Δw = η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m_t/(√v_t + ε)``. torch adds it to the
    bias-corrected ``√v̂_t = √v_t/√(1−β₂ᵗ)``: ``Δw = η/(1−β₁ᵗ) · m_t/(√v̂_t + ε')``.
    The two are equal when ``ε' = ε/√(1−β₂ᵗ)`` — 31.6·ε at t = 1 for β₂ = 0.999,
    falling to ε. The difference matters where gradients are as small as ε/√(1−β₂ᵗ)
    (Adam moves such weights by up to η regardless of the gradient's size), so
    lrlab runs Adam in Keras's form in both frameworks.
    """
    return epsilon / math.sqrt(1.0 - beta_2 ** t)


def check_loss_metric(spec: MLPSpec, loss, metric):
    """Return ``(loss, metric)`` checked against the model; ``metric=None`` picks accuracy for cross-entropies."""
    check_choice("loss", loss, tuple(LOSSES))
    needed = LOSSES[loss]
    if needed is not None and spec.output_activation != needed:
        raise ParameterError(f"loss = {loss!r} is not allowed with output_activation = "
                             f"{spec.output_activation!r}; it needs output_activation = {needed!r}")
    if metric is None:
        return loss, ("accuracy" if loss != "mse" else None)
    if loss not in METRICS.get(check_choice("metric", metric, tuple(METRICS)), ()):
        raise ParameterError(f"metric = {metric!r} is not allowed with loss = {loss!r}")
    return loss, metric


@dataclass(frozen=True)
class FitPlan:
    """Everything ``fit`` was asked to do, checked: data, loss, metric, batching, schedule unit, callbacks."""

    x: np.ndarray
    y: np.ndarray
    val: tuple | None
    loss: str
    metric: str | None
    batch_size: int
    epochs: int
    schedule_unit: str
    seed: int
    shuffle: bool
    callbacks: tuple

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.x) // self.batch_size)


def check_fit(spec: MLPSpec, optimizer_spec, train, val, *, loss, metric, epochs, batch_size, schedule_unit,
              callbacks, seed, shuffle) -> FitPlan:
    """Return the :class:`FitPlan` of a ``fit`` call after checking every argument.

    ``batch_size=None`` means full batch (one update per epoch, E001-2).
    """
    from lrlab.callbacks import Callback

    if not isinstance(optimizer_spec, OptimizerSpec):
        raise ParameterError(f"optimizer = {optimizer_spec!r} is not allowed; expected the backend's "
                             "optimizer(name, lr, ...)")
    loss, metric = check_loss_metric(spec, loss, metric)
    x, y = check_data(train, "train", spec)
    val = None if val is None else check_data(val, "val", spec)
    batch_size = len(x) if batch_size is None else min(check_int("batch_size", batch_size, low=1), len(x))
    callbacks = tuple(callbacks)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ParameterError(f"callbacks: {callback!r} is not allowed; expected EarlyStopping, "
                                 "ModelCheckpoint or ReduceLROnPlateau from the backend")
    return FitPlan(x, y, val, loss, metric, batch_size, check_int("epochs", epochs, low=0),
                   check_choice("schedule_unit", schedule_unit, ("step", "epoch")),
                   check_int("seed", seed, low=0, high=2**63 - 1), check_bool("shuffle", shuffle), callbacks)


# ----------------------------------------------------------------------------------------
# data and batches
# ----------------------------------------------------------------------------------------
def check_data(data, name: str, spec: MLPSpec):
    """Return ``(x, y)`` as C-contiguous arrays of the spec's dtype, shaped ``(n, in)`` and ``(n, out)``."""
    try:
        x, y = data
        x, y = np.ascontiguousarray(x, dtype=spec.dtype), np.ascontiguousarray(y, dtype=spec.dtype)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} is not allowed; expected an (x, y) pair of numeric arrays") from None
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    n_in, n_out = spec.sizes[0], spec.sizes[-1]
    if x.ndim != 2 or x.shape[1] != n_in or y.shape != (len(x), n_out) or len(x) == 0:
        raise ParameterError(f"{name} has x {x.shape}, y {y.shape}; expected x (n, {n_in}) and y (n, {n_out}) "
                             "with n >= 1 for this model")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ParameterError(f"{name} holds NaN or infinite values")
    return x, y


def holdout(x, y, fraction: float):
    """Return ``((x_train, y_train), (x_val, y_val))``: the last ``fraction`` of the rows held out.

    This is Keras's ``validation_split`` (E001-1): the split is taken before any
    shuffling, at ``int(n·(1 − fraction))``.
    """
    fraction = check_number("fraction", fraction, low=0, high=1, low_open=True, high_open=True)
    x, y = np.asarray(x), np.asarray(y)
    cut = int(len(x) * (1 - fraction))
    if cut == 0 or cut == len(x):
        raise ParameterError(f"fraction = {fraction!r} is not allowed for {len(x)} rows; both parts would not be "
                             "empty")
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def one_hot(labels, classes: int) -> np.ndarray:
    """Return the float32 one-hot matrix ``(n, classes)`` of integer ``labels``."""
    classes = check_int("classes", classes, low=1)
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min(initial=0) < 0 \
            or labels.max(initial=0) >= classes:
        raise ParameterError(f"labels are not allowed; expected a 1-D array of whole numbers in 0..{classes - 1}")
    return np.eye(classes, dtype=np.float32)[labels]


def epoch_orders(n: int, epochs: int, seed: int, shuffle: bool = True):
    """Yield the row order of each epoch: one seeded numpy permutation per epoch, int64.

    Both backends train on ``x[order]`` cut into consecutive batches, so the
    same ``seed`` gives the same batches in TensorFlow and PyTorch. Without
    ``shuffle`` every epoch keeps the stored order.
    """
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        yield rng.permutation(n) if shuffle else np.arange(n)


# ----------------------------------------------------------------------------------------
# divergence: the one rule of fit, fit_many and the range test
# ----------------------------------------------------------------------------------------
#: a training loss above this multiple of the initial loss is divergence (see :func:`is_diverged`)
DIVERGENCE_FACTOR = 10.0


def is_diverged(loss, initial_loss, factor: float = DIVERGENCE_FACTOR):
    """Return whether a training loss means the run has diverged: the one rule of lrlab.

    A run has diverged when its training loss is NaN or infinite, or exceeds
    ``factor`` (:data:`DIVERGENCE_FACTOR`, 10) times its *initial loss*: the
    mean loss over the whole training set at the weights the run starts from,
    before any update (:func:`initial_loss`, computed once in float64 numpy,
    so both frameworks compare against the very same number). ``fit`` and
    ``fit_many`` apply it to every epoch's mean training loss (in both
    frameworks, through :func:`run_epochs` and :func:`lrlab.many.run_many`);
    the range test applies it to every iteration's loss (its ``diverged``
    column), next to its own fastai stop rule.

    Why 10 (measured on the book's torch sweeps of chapters 5, 8, 9, 10 and 13,
    602 runs of the 64-32-10 / 64-64-10 MLP on digits, initial losses 2.34 to
    2.60): every run that learned (final loss below 0.8x its initial loss, 337
    runs) had its largest epoch loss at most 2.35x the initial loss, so 10x
    leaves a margin of 4 over the noisiest working start; every run whose loss
    ever went above 10x (41 runs, none NaN) ended at 0.91x its initial loss or
    worse — at chance level or above: training was destroyed. Exploding runs
    sit far above the threshold: SGD at lr = 1e4 on the binary seed task
    (20-8-1, initial loss 0.72) has a first-epoch loss of 1.1e10.

    Works elementwise on arrays (``fit_many`` passes one loss per model)::

        >>> is_diverged(7.4e9, 0.69)
        True
        >>> is_diverged(float("nan"), 0.69), is_diverged(1.2, 0.69)
        (True, False)
        >>> is_diverged(np.array([0.5, 30.0, np.inf]), np.array([2.3, 2.3, 2.3])).tolist()
        [False, True, True]
    """
    with np.errstate(invalid="ignore", over="ignore"):
        loss, initial_loss = np.asarray(loss, np.float64), np.asarray(initial_loss, np.float64)
        out = ~np.isfinite(loss) | (loss > factor * initial_loss)
    return bool(out) if out.ndim == 0 else out


_NP_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "linear": lambda z: z,
}


def initial_losses(spec: MLPSpec, weights, x, y, loss: str) -> np.ndarray:
    """Return the (M,) mean losses over ``(x, y)`` of M models with stacked ``weights``, in float64 numpy.

    ``weights`` is ``[(kernels (M, in, out), biases (M, out)), ...]`` (what
    :func:`lrlab.many.stack_weights` returns). The loss of a row is its mean
    over the outputs, cross-entropies are computed from the logits (what both
    backends do); no framework is involved, so TensorFlow and PyTorch runs get
    the same number.
    """
    size = len(weights[0][0])
    if isinstance(spec, CNNSpec):  # bounds the (models, rows, positions, patch) activations
        per_row = max(n * max(k * c_in, c_out) for n, (k, c_in, c_out) in zip(spec.lengths[1:], spec.shapes))
        chunk = max(1, 2**22 // (len(x) * per_row))
    else:
        chunk = max(1, 2**22 // (len(x) * max(spec.sizes)))  # bounds the (models, rows, width) activations
    if size > chunk:
        return np.concatenate([initial_losses(spec, [(k[i:i + chunk], b[i:i + chunk]) for k, b in weights],
                                              x, y, loss) for i in range(0, size, chunk)])
    if isinstance(spec, CNNSpec):
        h = _np_cnn_logits(spec, weights, x)
    else:
        hidden = _NP_ACTIVATIONS[spec.activation]
        h = np.asarray(x, np.float64)[None]
        for j, (kernel, bias) in enumerate(weights):
            h = h @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64)[:, None, :]
            if j < len(weights) - 1:
                h = hidden(h)
    y = np.asarray(y, np.float64)[None]
    if loss == "binary_crossentropy":  # log(1 + e^z) - y z, stable
        rows = (np.logaddexp(0.0, h) - y * h).mean(-1)
    elif loss == "categorical_crossentropy":
        z = h - h.max(-1, keepdims=True)
        rows = -(y * (z - np.log(np.exp(z).sum(-1, keepdims=True)))).sum(-1)
    else:
        out = {"softmax": lambda z: np.exp(z - np.logaddexp.reduce(z, -1, keepdims=True))}.get(
            spec.output_activation, _NP_ACTIVATIONS.get(spec.output_activation))
        rows = ((out(h) - y) ** 2).mean(-1)
    return rows.mean(-1)


def initial_loss(spec: MLPSpec, weights, x, y, loss: str) -> float:
    """Return the mean loss over ``(x, y)`` of one model's ``[(kernel, bias), ...]``: :func:`is_diverged`'s start."""
    return float(initial_losses(spec, [(k[None], b[None]) for k, b in weights], x, y, loss)[0])


# ----------------------------------------------------------------------------------------
# the epoch loop of fit
# ----------------------------------------------------------------------------------------
def _history_columns(metric):
    names = ["epoch", "lr", "loss"] + ([metric] if metric else []) + ["val_loss"]
    return names + ([f"val_{metric}"] if metric else []) + ["status"]


def run_epochs(trainer, plan: FitPlan) -> pd.DataFrame:
    """Return the history of ``fit``: one row per epoch, after running ``trainer`` epoch by epoch.

    ``trainer`` is a backend's object with ``train_epoch(order) -> (loss,
    metric, lr)`` (mean loss/metric over the epoch's batches weighted by batch
    size, each taken before its update; the LR the last update used),
    ``evaluate(x, y) -> (loss, metric)``, ``end_epoch()``, and what the
    callbacks use (``weights()``, ``set_weights(w)``, ``save(path)``, an ``lr``
    property, ``lr_settable``). Columns: ``epoch`` (0-based, as an
    epoch-counting schedule counts), ``lr``, ``loss``, the metric,
    ``val_loss``, ``val_<metric>`` (NaN without ``val``), ``status``.

    Divergence (:func:`is_diverged`: a NaN or infinite epoch loss, or one
    above :data:`DIVERGENCE_FACTOR` times the initial loss), or a NaN or
    infinite validation loss, ends the run after that epoch with ``status ==
    "diverged"`` (a result, never an exception); its validation values are NaN.
    ``attrs["initial_loss"]`` is the initial loss (:func:`initial_loss` of
    ``trainer.spec`` and ``trainer.weights()`` on the training data, before the
    first update); ``attrs["stopped_epoch"]`` is the epoch a callback stopped
    the run at (or None).
    """
    metric, val, callbacks = plan.metric, plan.val, plan.callbacks
    start = initial_loss(trainer.spec, trainer.weights(), plan.x, plan.y, plan.loss)
    columns = _history_columns(metric)
    available = [c for c in columns if c not in ("epoch", "status", "lr")
                 and (val is not None or not c.startswith("val_"))]
    for callback in callbacks:
        callback.on_train_begin(trainer, available)
    rows, stopped = [], None
    for epoch, order in enumerate(epoch_orders(len(plan.x), plan.epochs, plan.seed, plan.shuffle)):
        loss, value, lr = trainer.train_epoch(order)
        logs = {"epoch": epoch, "lr": lr, "loss": loss}
        if metric:
            logs[metric] = value
        diverged = is_diverged(loss, start)
        val_loss, val_value = (math.nan, math.nan) if (val is None or diverged) else trainer.evaluate(*val)
        diverged = diverged or (val is not None and not math.isfinite(val_loss))
        logs["val_loss"] = val_loss
        if metric:
            logs[f"val_{metric}"] = val_value
        logs["status"] = "diverged" if diverged else "ok"
        rows.append(logs)
        if diverged:
            break
        trainer.end_epoch()
        for callback in callbacks:
            callback.on_epoch_end(trainer, logs)
        if trainer.stop_training:
            stopped = epoch
            break
    for callback in callbacks:
        callback.on_train_end(trainer)
    dtypes = {c: (np.int64 if c == "epoch" else object if c == "status" else np.float64) for c in columns}
    history = pd.DataFrame({c: np.array([row[c] for row in rows], dtype=dtypes[c]) for c in columns})
    history.attrs["stopped_epoch"] = stopped
    history.attrs["initial_loss"] = start
    return history


class TrainerBase:
    """What a backend's trainer shares: the stop flag, the checkpoint file name and atomic saving."""

    #: the framework's checkpoint suffix (".keras", ".pt")
    suffix = ""
    stop_training = False

    def checkpoint_path(self, path: str) -> str:
        """Return ``path`` with the framework's checkpoint suffix added if it lacks it."""
        return path if path.endswith(self.suffix) else path + self.suffix

    def save(self, path: str) -> None:
        """Write the model to ``path`` through a temporary file and a rename (never half-written)."""
        directory, name = os.path.split(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp{self.suffix}")
        try:
            self._write(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def _write(self, path: str) -> None:  # pragma: no cover - each backend writes its own format
        raise NotImplementedError
