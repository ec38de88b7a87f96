"""Data sets of the book, all made or shipped locally (nothing is downloaded).

* :func:`seed001_task` — the synthetic task of seed 001 (E001-1/2/3).
* :func:`digits` — scikit-learn's 8×8 handwritten digits, split train/val/test
  (E000-5, E002-1, E002-6, E004-2, C003-3).
* :func:`mnist1d` — MNIST-1D (Greydanus & Kobak 2024), made locally by the
  ``mnist1d`` package's generator with a fixed seed, split train/val/test.
* :class:`Quadratic` and :data:`E004_4_PUBLISHED` — the one-weight quadratic of
  E004-4 and the table its seed printed (the book's golden output).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrlab.params import check_int, check_number

__all__ = ["Digits", "E004_4_PUBLISHED", "E004_4_FINAL_W", "MNIST1D", "Quadratic", "Split", "Wells", "digits",
           "mnist1d", "seed001_task"]


@dataclass(frozen=True)
class Split:
    """Train and test arrays of one data set: ``x_train, y_train, x_test, y_test``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def train(self):
        return self.x_train, self.y_train

    @property
    def test(self):
        return self.x_test, self.y_test


def seed001_task(n_train: int = 1000, n_test: int = 200, n_features: int = 20, seed: int = 0) -> Split:
    """Return the seed-001 task (E001-1): ``x ~ U(0,1)^(n×d)``, ``y = 1[sum(x) > d/2]``.

    With d = 20 the threshold is the seed's 10. Arrays are float32, ``y`` has
    shape ``(n, 1)``. The seed drew its data unseeded; here one numpy generator
    seeded with ``seed`` draws the training set, then the test set.
    """
    check_int("n_train", n_train, low=1)
    check_int("n_test", n_test, low=1)
    check_int("n_features", n_features, low=1)
    rng = np.random.default_rng(seed)

    def draw(n):
        x = rng.random((n, n_features)).astype(np.float32)
        y = (x.sum(axis=1, keepdims=True) > n_features / 2).astype(np.float32)
        return x, y

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return Split(x_train, y_train, x_test, y_test)


@dataclass(frozen=True)
class Digits:
    """A train/val/test split of the digits: ``(x, y)`` pairs, ``x`` float32 in [0, 1], ``y`` one-hot float32."""

    train: tuple
    val: tuple
    test: tuple
    classes: int = 10

    @staticmethod
    def labels(part) -> np.ndarray:
        """Return the integer labels (0…9) of a part's one-hot ``y``."""
        return np.asarray(part[1]).argmax(axis=1)


def digits(val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> Digits:
    """Return scikit-learn's ``load_digits`` (1797 images, 8×8) split into train, val and test.

    ``x`` is the 64 pixel intensities divided by 16 (so in [0, 1], no statistic
    of any part leaks into another); ``y`` is one-hot over the 10 classes. The
    test part (``test_fraction`` of all rows), then the validation part
    (``val_fraction`` of all rows) are cut with ``train_test_split(stratify=labels,
    random_state=seed)``, so every part keeps the class proportions. The data
    ship with scikit-learn: nothing is downloaded. Seed rows: E000-5, E002-1,
    E002-6, E004-2, C003-3 (the book's real multi-class data set).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    val_fraction = check_number("val_fraction", val_fraction, low=0, high=1, low_open=True, high_open=True)
    test_fraction = check_number("test_fraction", test_fraction, low=0, high=1, low_open=True, high_open=True)
    check_number("val_fraction + test_fraction", val_fraction + test_fraction, high=0.9)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    x, labels = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[labels]
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=test_fraction, stratify=labels,
                                                      random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction / (1 - test_fraction), stratify=y_rest.argmax(axis=1),
        random_state=seed)
    return Digits((x_train, y_train), (x_val, y_val), (x_test, y_test))


@dataclass(frozen=True)
class MNIST1D(Digits):
    """A train/val/test split of MNIST-1D: ``(x, y)`` pairs, ``x`` float64 ``(n, 40)``, ``y`` one-hot float32.

    ``val`` is None when the split was made with ``val_fraction=0``;
    ``templates`` holds the ten class templates ``(10, 12)`` of the generator
    (what each signal is a transformed copy of).
    """

    templates: np.ndarray | None = None


#: the generator's defaults that make the published data set (``mnist1d.data.get_dataset_args``, 0.0.2.post1)
MNIST1D_ARGS = {"num_samples": 5000, "train_split": 0.8, "template_len": 12, "padding": [36, 60],
                "scale_coeff": 0.4, "max_translation": 48, "corr_noise_scale": 0.25, "iid_noise_scale": 2e-2,
                "shear_scale": 0.75, "shuffle_seq": False, "final_seq_length": 40, "seed": 42}


def _mnist1d_raw(num_samples: int, seed: int):
    """Return the generator's ``(x, y, x_test, y_test, templates)``, global random states restored."""
    import random

    from mnist1d.data import make_dataset
    from mnist1d.utils import ObjectView

    args = ObjectView(dict(MNIST1D_ARGS, num_samples=num_samples, seed=seed))
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:  # make_dataset seeds numpy's and Python's global generators (mnist1d.utils.set_seed)
        made = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return made["x"], made["y"], made["x_test"], made["y_test"], np.asarray(made["templates"]["x"])


_MNIST1D_CACHE: dict = {}


def mnist1d(val_fraction: float = 0.2, seed: int = 0, num_samples: int = 5000, data_seed: int = 42) -> MNIST1D:
    """Return MNIST-1D made locally by its generator, standardised and split into train, val and test.

    The ``mnist1d`` package's ``make_dataset`` (never ``get_dataset``, which
    downloads a pickle) draws ``num_samples`` signals of length 40 with the
    published arguments and seed (``data_seed=42``, 5000 signals: the paper's
    4000 training and 1000 test rows, Greydanus & Kobak 2024). The test part is
    the generator's test split; ``val_fraction`` of the training rows are held
    out as validation (``train_test_split(stratify=labels, random_state=seed)``;
    ``val_fraction=0`` keeps all 4000 for training and gives ``val=None``).
    ``x`` is standardised with the training part's mean and standard deviation
    (one number each, over all positions, as the generator itself does over all
    rows), so nothing of the validation or test rows leaks into it; ``y`` is
    one-hot over the 10 classes. Nothing is downloaded; making the data takes a
    few seconds, so the raw arrays are cached per ``(num_samples, data_seed)``.
    """
    from sklearn.model_selection import train_test_split

    val_fraction = check_number("val_fraction", val_fraction, low=0, high=1, high_open=True)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    num_samples = check_int("num_samples", num_samples, low=50)
    data_seed = check_int("data_seed", data_seed, low=0, high=2**32 - 1)
    key = (num_samples, data_seed)
    if key not in _MNIST1D_CACHE:
        _MNIST1D_CACHE[key] = _mnist1d_raw(num_samples, data_seed)
    x, labels, x_test, labels_test, templates = _MNIST1D_CACHE[key]
    eye = np.eye(10, dtype=np.float32)
    if val_fraction:
        x, x_val, labels, labels_val = train_test_split(x, labels, test_size=val_fraction, stratify=labels,
                                                        random_state=seed)
    mean, std = float(x.mean()), float(x.std())

    def part(xs, ys):
        return np.ascontiguousarray((xs - mean) / std, dtype=np.float64), eye[ys]

    val = part(x_val, labels_val) if val_fraction else None
    return MNIST1D(part(x, labels), val, part(x_test, labels_test), templates=templates.copy())


@dataclass(frozen=True)
class Quadratic:
    """The loss ``L(w) = a·(w − c)²`` of one weight (E004-4 uses a = 1, c = −1).

    Its gradient is ``2a(w − c)`` and its curvature ``L'' = 2a``, so a gradient
    step with learning rate η multiplies the distance to the minimum by
    ``1 − 2aη``: monotone convergence for ``η < 1/(2a)``, oscillating
    convergence for ``1/(2a) < η < 1/a``, divergence for ``η > 1/a`` (C000-1).
    """

    a: float = 1.0
    c: float = -1.0

    def __post_init__(self):
        check_number("a", self.a, low=0, low_open=True)
        check_number("c", self.c)

    def loss(self, w):
        return self.a * (w - self.c) ** 2

    def grad(self, w):
        return 2 * self.a * (w - self.c)

    @property
    def curvature(self) -> float:
        return 2 * self.a

    def contraction(self, lr):
        """Return ``1 − η·L''``: the factor one step multiplies ``w − c`` by."""
        return 1 - np.asarray(lr) * self.curvature

    def regime(self, lr: float) -> str:
        """Return how gradient descent at constant ``lr`` behaves on this loss.

        One of ``"monotone"``, ``"one step"``, ``"oscillating"``,
        ``"oscillating forever"``, ``"diverging"`` (``"static"`` for lr = 0).
        """
        q = float(self.contraction(lr))
        if q == 1:
            return "static"
        if 0 < q < 1:
            return "monotone"
        if q == 0:
            return "one step"
        if -1 < q < 0:
            return "oscillating"
        if q == -1:
            return "oscillating forever"
        return "diverging"


@dataclass(frozen=True)
class Wells:
    """A multimodal loss of one weight: a shallow bowl with Lorentzian wells (C002-2).

    ``L(w) = b·w² − Σ_i d_i / (1 + ((w − c_i)/σ_i)²)``: well i sits near
    ``c_i``, is ``d_i`` deep and ``σ_i`` wide; its curvature at the bottom is
    about ``2b + 2d_i/σ_i²``, so a narrow well is sharp and gradient descent can
    settle in it only with ``η < 2/L''`` there. ``loss`` uses only +, −, ×, ÷,
    so it works on floats, numpy arrays and TensorFlow/PyTorch tensors (the
    backends' ``descend``). The defaults make the global minimum sharp::

        b = 0.05, c = (−2.5, 0.5, 2.5), d = (1.0, 0.8, 1.6), σ = (1.2, 0.2, 0.25)
        minima (w, L, L''): (−2.3219, −0.7172, 1.31) wide, local
                            ( 0.4973, −0.9502, 40.0) sharp, local
                            ( 2.4946, −1.3506, 51.1) sharp, global

    and ``Wells(depths=(2.0, 0.8, 1.2))`` makes the wide well the global one.
    :meth:`minima` computes them for any parameters.
    """

    bowl: float = 0.05
    centres: tuple = (-2.5, 0.5, 2.5)
    depths: tuple = (1.0, 0.8, 1.6)
    widths: tuple = (1.2, 0.2, 0.25)

    def __post_init__(self):
        check_number("bowl", self.bowl, low=0, low_open=True)
        if not (len(self.centres) == len(self.depths) == len(self.widths) >= 1):
            raise ValueError(f"centres, depths, widths = {self.centres!r}, {self.depths!r}, {self.widths!r} "
                             "are not allowed; expected three tuples of the same length >= 1")
        for name, values, low in (("centres", self.centres, None), ("depths", self.depths, 0),
                                  ("widths", self.widths, 0)):
            for value in values:
                check_number(name, value, low=low, low_open=low is not None)

    def loss(self, w):
        """Return ``L(w)`` (w a float, an array or a framework tensor)."""
        total = self.bowl * w * w
        for c, d, s in zip(self.centres, self.depths, self.widths):
            u = (w - c) / s
            total = total - d / (1 + u * u)
        return total

    def grad(self, w) -> np.ndarray:
        """Return ``L'(w) = 2bw + Σ_i 2d_i u_i / (σ_i (1 + u_i²)²)``, ``u_i = (w − c_i)/σ_i`` (numpy, float64)."""
        w = np.asarray(w, dtype=np.float64)
        total = 2 * self.bowl * w
        for c, d, s in zip(self.centres, self.depths, self.widths):
            u = (w - c) / s
            total = total + 2 * d * u / (s * (1 + u * u) ** 2)
        return total

    def curvature(self, w) -> np.ndarray:
        """Return ``L''(w) = 2b + Σ_i 2d_i (1 − 3u_i²) / (σ_i² (1 + u_i²)³)`` (numpy, float64)."""
        w = np.asarray(w, dtype=np.float64)
        total = 2 * self.bowl + 0 * w
        for c, d, s in zip(self.centres, self.depths, self.widths):
            u = (w - c) / s
            total = total + 2 * d * (1 - 3 * u * u) / (s * s * (1 + u * u) ** 3)
        return total

    def _stationary(self):
        """Return ``(minima, maxima)``: the zeros of ``L'``, found on a fine grid and refined by bisection."""
        reach = max(abs(c) for c in self.centres) + 10 * max(self.widths) + 10
        grid = np.linspace(-reach, reach, 400_001)
        g = self.grad(grid)
        found = {}
        for kind, mask in (("min", (g[:-1] < 0) & (g[1:] >= 0)), ("max", (g[:-1] > 0) & (g[1:] <= 0))):
            lo, hi = grid[:-1][mask], grid[1:][mask]
            for _ in range(60):
                mid = (lo + hi) / 2
                below = (self.grad(mid) < 0) == (kind == "min")
                lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
            found[kind] = (lo + hi) / 2
        return found["min"], found["max"]

    def minima(self):
        """Return the local minima as a DataFrame, by position: ``w``, ``loss``, ``curvature``,
        ``max_stable_lr`` (``2/L''``: above it gradient descent cannot settle there) and ``global``."""
        import pandas as pd

        w, _ = self._stationary()
        loss = self.loss(w)
        curvature = self.curvature(w)
        return pd.DataFrame({"w": w, "loss": loss, "curvature": curvature, "max_stable_lr": 2 / curvature,
                             "global": loss == loss.min()})

    def basin(self, w) -> np.ndarray:
        """Return, for each ``w``, the row of :meth:`minima` whose basin (between the maxima around it) holds it.

        That is where gradient descent with a small enough learning rate ends.
        """
        _, maxima = self._stationary()
        return np.searchsorted(maxima, np.asarray(w, dtype=np.float64))

    def landed(self, w, tol: float = 0.05) -> np.ndarray:
        """Return, for each ``w``, the row of :meth:`minima` within ``tol`` of it, or −1 (not at a minimum)."""
        w = np.asarray(w, dtype=np.float64)
        minima = self._stationary()[0]
        nearest = np.abs(w[..., None] - minima).argmin(axis=-1)
        return np.where(np.abs(w - minima[nearest]) < tol, nearest, -1)


#: final weight the E004-4 seed printed (``final w: -0.9957312``)
E004_4_FINAL_W = "-0.9957312"

#: the 40 rows E004-4's seed printed: (step, learning rate, loss, w), each as printed with %g
E004_4_PUBLISHED = (
    ("0", "0.099", "23.04", "3.8"),
    ("1", "0.09801", "14.8194", "2.8496"),
    ("2", "0.0970299", "9.57903", "2.095"),
    ("3", "0.0960596", "6.22196", "1.49439"),
    ("4", "0.095099", "4.06089", "1.01517"),
    ("5", "0.094148", "2.66305", "0.631886"),
    ("6", "0.0932065", "1.75459", "0.324608"),
    ("7", "0.0922745", "1.1614", "0.0776838"),
    ("8", "0.0913517", "0.772287", "-0.121202"),
    ("9", "0.0904382", "0.515867", "-0.281761"),
    ("10", "0.0895338", "0.346128", "-0.411674"),
    ("11", "0.0886385", "0.233266", "-0.517024"),
    ("12", "0.0877521", "0.157891", "-0.602644"),
    ("13", "0.0868746", "0.107334", "-0.672382"),
    ("14", "0.0860058", "0.0732756", "-0.729305"),
    ("15", "0.0851458", "0.0502352", "-0.775868"),
    ("16", "0.0842943", "0.0345827", "-0.814036"),
    ("17", "0.0834514", "0.0239051", "-0.845387"),
    ("18", "0.0826169", "0.0165914", "-0.871193"),
    ("19", "0.0817907", "0.0115614", "-0.892476"),
    ("20", "0.0809728", "0.00808834", "-0.910065"),
    ("21", "0.0801631", "0.00568072", "-0.924629"),
    ("22", "0.0793614", "0.0040052", "-0.936713"),
    ("23", "0.0785678", "0.00283467", "-0.946758"),
    ("24", "0.0777822", "0.00201381", "-0.955125"),
    ("25", "0.0770043", "0.00143599", "-0.962106"),
    ("26", "0.0762343", "0.00102774", "-0.967942"),
    ("27", "0.075472", "0.000738235", "-0.97283"),
    ("28", "0.0747172", "0.000532191", "-0.976931"),
    ("29", "0.0739701", "0.000385019", "-0.980378"),
    ("30", "0.0732304", "0.000279526", "-0.983281"),
    ("31", "0.0724981", "0.000203643", "-0.98573"),
    ("32", "0.0717731", "0.000148869", "-0.987799"),
    ("33", "0.0710553", "0.000109198", "-0.98955"),
    ("34", "0.0703448", "8.03662e-05", "-0.991035"),
    ("35", "0.0696413", "5.93437e-05", "-0.992297"),
    ("36", "0.0689449", "4.39641e-05", "-0.993369"),
    ("37", "0.0682555", "3.26757e-05", "-0.994284"),
    ("38", "0.0675729", "2.43633e-05", "-0.995064"),
    ("39", "0.0668972", "1.82229e-05", "-0.995731"),)
