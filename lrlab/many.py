"""Many models at once: what the batched trainers of ``fit_many`` share, free of any framework.

A learning-rate grid trains the same small model dozens of times. ``fit_many``
(:meth:`lrlab.backend.Backend.fit_many`, ``lrlab.tf.fit_many`` and
``lrlab.torch.fit_many``) trains M copies together,
as one batched computation over stacked weights with a leading model axis.
This module decides *what* the M models are and what the result looks like;
the backends only make the framework calls:

* :func:`grid` — the cartesian product of hyperparameter axes, as configurations;
* :func:`check_many` — the checked :class:`ManyPlan`: per-model hyperparameter
  arrays, the LR of every update of every model (an ``(M, updates)`` table
  evaluated from the numpy reference ``s(k)`` of :mod:`lrlab.schedules`), the
  stacked initial weights (:func:`lrlab.training.initial_weights`, so the same
  ``init_seed`` gives the same start as ``mlp(..., seed=init_seed)``);
* :func:`run_many` — the epoch loop: one shared batch order
  (:func:`lrlab.training.epoch_orders`), the history table of ``fit`` with a
  ``model`` column and the configuration columns, and per-model divergence;
* :func:`select_device` — ``None`` picks the GPU when the framework sees one.

Divergence is per model (C000-1) and follows lrlab's one rule
(:func:`lrlab.training.is_diverged`): a model whose epoch loss is NaN,
infinite or above :data:`lrlab.training.DIVERGENCE_FACTOR` times its own
initial loss (the mean training loss at its initial weights, before any
update), or whose validation loss is NaN or infinite, gets ``status ==
"diverged"`` on that epoch and no rows after it, exactly as its own ``fit`` would; the backend then freezes it
(its updates are masked out) and the other models go on untouched, since no
batched operation mixes models.

Nothing here imports TensorFlow or PyTorch.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrlab import training
from lrlab.params import ParameterError, check_choice, check_int

__all__ = [
    "CONFIG_KEYS",
    "DEVICES",
    "ManyHistory",
    "ManyPlan",
    "check_many",
    "grid",
    "lr_table",
    "run_many",
    "select_device",
    "stack_weights",
]

#: what a configuration may set for its model: the LR (a float or an lrlab
#: schedule), the optimizer's hyperparameters (those its optimizer has, see
#: :data:`lrlab.training.OPTIMIZERS`) and the seed of its initial weights
CONFIG_KEYS = ("lr", "momentum", "weight_decay", "beta_1", "beta_2", "epsilon", "rho", "init_seed")
#: the values of ``device``: None picks the GPU when there is one; "cuda" is "gpu"
DEVICES = (None, "cpu", "gpu", "cuda")


def grid(**axes) -> list[dict]:
    """Return the configurations of the cartesian product of ``axes``, the last axis varying fastest.

    ``grid(lr=[0.01, 0.1], momentum=[0.0, 0.9])`` gives four dicts, ``{"lr":
    0.01, "momentum": 0.0}`` first. Each axis is a non-empty list of values
    (numpy arrays are fine); the keys are checked by :func:`check_many`.

    >>> grid(lr=[0.01, 0.1], momentum=[0.0, 0.9])  # doctest: +NORMALIZE_WHITESPACE
    [{'lr': 0.01, 'momentum': 0.0}, {'lr': 0.01, 'momentum': 0.9},
     {'lr': 0.1, 'momentum': 0.0}, {'lr': 0.1, 'momentum': 0.9}]
    """
    if not axes:
        raise ParameterError("grid() is not allowed without axes; expected e.g. grid(lr=[0.01, 0.1])")
    values = {}
    for key, axis in axes.items():
        items = list(axis) if isinstance(axis, (list, tuple, np.ndarray, range, pd.Series)) else None
        if not items:
            raise ParameterError(f"{key} = {axis!r} is not allowed; expected a non-empty list of values")
        values[key] = [v.item() if isinstance(v, np.generic) else v for v in items]
    return [dict(zip(values, combo)) for combo in itertools.product(*values.values())]


def select_device(device, gpu_available: bool, framework: str) -> str:
    """Return ``"gpu"`` or ``"cpu"``: the device ``device`` asks for, checked against what is there.

    ``None`` means the GPU when ``framework`` sees one, else the CPU; ``"cuda"``
    is another name for ``"gpu"``. Asking for a GPU that is not there is an error.
    """
    check_choice("device", device, DEVICES)
    if device is None:
        return "gpu" if gpu_available else "cpu"
    if device in ("gpu", "cuda") and not gpu_available:
        raise ParameterError(f"device = {device!r} is not allowed; {framework} sees no GPU here "
                             "(use None or 'cpu')")
    return "cpu" if device == "cpu" else "gpu"


# ----------------------------------------------------------------------------------------
# the plan: M configurations, checked
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManyPlan:
    """The M models of a ``fit_many`` call, checked, and the shared :class:`~lrlab.training.FitPlan`."""

    fit: training.FitPlan
    spec: training.MLPSpec
    optimizer: str
    #: hyperparameter name -> float64 array (M,): every hyperparameter of the optimizer, per model
    hyper: dict
    #: float64 (M, updates): the LR update k of model m uses
    lrs: np.ndarray
    #: per layer: (kernels (M, in, out), biases (M, out)) in the spec's dtype
    init: list
    #: one row per model: ``model`` and the keys the configurations set, as given
    configs: pd.DataFrame
    #: model m's optimizer, as ``fit`` would take it (its LR, schedule and hyperparameters)
    optimizers: tuple = ()

    @property
    def size(self) -> int:
        """Return M, the number of models."""
        return len(self.lrs)

    @property
    def updates(self) -> int:
        """Return the number of optimizer updates of each model (epochs × steps per epoch)."""
        return self.lrs.shape[1]


def _records(configs) -> list[dict]:
    """Return ``configs`` (a list of dicts or a DataFrame) as a non-empty list of dicts."""
    if isinstance(configs, pd.DataFrame):
        rows = configs.to_dict("records")
    elif isinstance(configs, (list, tuple)) and all(isinstance(c, Mapping) for c in configs):
        rows = [dict(c) for c in configs]
    else:
        rows = None
    if not rows:
        raise ParameterError(f"configs = {configs!r} is not allowed; expected a non-empty list of dicts or a "
                             "DataFrame, one per model (lrlab.many.grid(lr=[...]) makes one)")
    return rows


def _base_optimizer(optimizer):
    """Return ``(name, lr or None, hyperparameters)`` of ``optimizer``: a name or a backend's ``optimizer(...)``."""
    if isinstance(optimizer, training.OptimizerSpec):
        return optimizer.name, optimizer.lr, dict(optimizer.hyper)
    if isinstance(optimizer, str) and optimizer in training.OPTIMIZERS:
        return optimizer, None, {}
    raise ParameterError(f"optimizer = {optimizer!r} is not allowed; expected one of "
                         + ", ".join(repr(n) for n in training.OPTIMIZERS)
                         + " or the backend's optimizer(name, lr, ...)")


def _check_config(i: int, config: dict, name: str, lr, hyper: dict):
    """Return ``(OptimizerSpec, init_seed or None)`` of configuration ``i``; errors name ``configs[i]``."""
    for key, value in config.items():
        if key not in CONFIG_KEYS:
            raise ParameterError(f"configs[{i}]: {key} = {value!r} is not allowed; the keys a configuration "
                                 "may set: " + ", ".join(CONFIG_KEYS))
    if "lr" not in config and lr is None:
        raise ParameterError(f"configs[{i}] = {config!r} is not allowed; it needs an lr (or pass "
                             "optimizer=backend.optimizer(name, lr) to give every model a default)")
    overrides = {k: v for k, v in config.items() if k not in ("lr", "init_seed")}
    try:
        spec = training.check_optimizer(name, config.get("lr", lr), **(hyper | overrides))
        seed = config.get("init_seed")
        seed = None if seed is None else check_int("init_seed", seed, low=0, high=2**63 - 1)
    except ParameterError as error:
        raise ParameterError(f"configs[{i}]: {error}") from None
    return spec, seed


def lr_table(lrs, epochs: int, steps_per_epoch: int, schedule_unit: str) -> np.ndarray:
    """Return the float64 ``(M, epochs·steps_per_epoch)`` table of the LR each update of each model uses.

    Entry ``[m, k]`` is ``s_m(k)`` (``schedule_unit="step"``) or
    ``s_m(k // steps_per_epoch)`` (``"epoch"``: every update of epoch e uses
    ``s_m(e)``), the numpy reference of model m's schedule; a float LR fills its row.

    >>> from lrlab import schedules
    >>> halving = schedules.make("step", initial_lr=0.1, step_size=2, gamma=0.5)
    >>> lr_table([0.1, halving], epochs=2, steps_per_epoch=2, schedule_unit="step").tolist()
    [[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.05, 0.05]]
    >>> lr_table([halving], epochs=3, steps_per_epoch=2, schedule_unit="epoch").tolist()  # s(0), s(1), s(2)
    [[0.1, 0.1, 0.1, 0.1, 0.05, 0.05]]
    """
    k = np.arange(epochs * steps_per_epoch, dtype=np.int64)
    if schedule_unit == "epoch":
        k = k // steps_per_epoch
    table = np.empty((len(lrs), len(k)), dtype=np.float64)
    for m, lr in enumerate(lrs):
        table[m] = lr(k) if training.is_schedule(lr) else float(lr)
    return table


def stack_weights(weights) -> list:
    """Return ``[(kernels (M, in, out), biases (M, out)), ...]``: M models' ``[(kernel, bias), ...]`` stacked."""
    return [(np.stack([w[j][0] for w in weights]), np.stack([w[j][1] for w in weights]))
            for j in range(len(weights[0]))]


def check_many(spec: training.MLPSpec, weights, optimizer, train, val, *, loss, metric, epochs, batch_size,
               configs, schedule_unit, seed) -> ManyPlan:
    """Return the :class:`ManyPlan` of a ``fit_many`` call after checking every argument.

    ``weights`` are the initial weights of a model given as built (every
    configuration without ``init_seed`` starts from them), or ``None`` for a
    model given as a spec (those start from ``initial_weights(spec, 0)``, what
    ``mlp(...)`` draws by default).
    """
    rows = _records(configs)
    name, lr, hyper = _base_optimizer(optimizer)
    checked = [_check_config(i, row, name, lr, hyper) for i, row in enumerate(rows)]
    plan = training.check_fit(spec, checked[0][0], train, val, loss=loss, metric=metric, epochs=epochs,
                              batch_size=batch_size, schedule_unit=schedule_unit, callbacks=(), seed=seed,
                              shuffle=True)
    cache = {}

    def start(init_seed):
        if init_seed is None and weights is not None:
            return weights
        key = 0 if init_seed is None else init_seed
        if key not in cache:
            cache[key] = training.initial_weights(spec, key)
        return cache[key]

    keys = list(dict.fromkeys(k for row in rows for k in row))
    table = pd.DataFrame({"model": np.arange(len(rows), dtype=np.int64)})
    for key in keys:
        if key == "lr":
            table[key] = pd.Series([opt.lr for opt, _ in checked], dtype=object)
        elif key == "init_seed":
            table[key] = [s for _, s in checked]
        else:
            table[key] = [opt.hyper[key] for opt, _ in checked]
    return ManyPlan(
        fit=plan, spec=spec, optimizer=name,
        hyper={k: np.array([opt.hyper[k] for opt, _ in checked], dtype=np.float64)
               for k in training.OPTIMIZERS[name]},
        lrs=lr_table([opt.lr for opt, _ in checked], plan.epochs, plan.steps_per_epoch, plan.schedule_unit),
        init=stack_weights([start(s) for _, s in checked]),
        configs=table,
        optimizers=tuple(opt for opt, _ in checked),
    )


# ----------------------------------------------------------------------------------------
# the epoch loop and the history table
# ----------------------------------------------------------------------------------------
class ManyHistory:
    """The rows of ``fit_many``'s history, epoch by epoch, and which models are still training."""

    def __init__(self, plan: ManyPlan):
        self.plan = plan
        #: each model's loss on the training data at its initial weights (what divergence compares with)
        self.initial_loss = training.initial_losses(plan.spec, plan.init, plan.fit.x, plan.fit.y, plan.fit.loss)
        self.alive = np.ones(plan.size, dtype=bool)
        self.epochs: list[dict] = []

    def record(self, epoch: int, loss, value, val_loss, val_value) -> np.ndarray:
        """Add epoch ``epoch``'s rows for the models still training; return the ids of those that diverged in it.

        Each argument is a length-M array (entries of models no longer training
        are ignored). As in :func:`lrlab.training.run_epochs`: a loss that
        :func:`lrlab.training.is_diverged` calls diverged (NaN, infinite, or above
        the factor times the model's initial loss) is divergence and its
        validation values are NaN; with validation data a NaN or infinite
        validation loss is divergence too.
        """
        ids = np.flatnonzero(self.alive)
        loss, value = np.asarray(loss, np.float64)[ids], np.asarray(value, np.float64)[ids]
        diverged = np.asarray(training.is_diverged(loss, self.initial_loss[ids]), bool)
        val_loss = np.where(diverged, np.nan, np.asarray(val_loss, np.float64)[ids])
        val_value = np.where(diverged, np.nan, np.asarray(val_value, np.float64)[ids])
        if self.plan.fit.val is not None:
            diverged |= ~np.isfinite(val_loss)
        last = (epoch + 1) * self.plan.fit.steps_per_epoch - 1
        self.epochs.append({"model": ids, "epoch": np.full(len(ids), epoch, np.int64),
                            "lr": self.plan.lrs[ids, last], "loss": loss, "value": value,
                            "val_loss": val_loss, "val_value": val_value,
                            "status": np.where(diverged, "diverged", "ok")})
        self.alive[ids[diverged]] = False
        return ids[diverged]

    def table(self) -> pd.DataFrame:
        """Return the history: one row per model and epoch, sorted by model then epoch (see ``fit_many``)."""
        plan, metric = self.plan, self.plan.fit.metric
        parts = {key: np.concatenate([e[key] for e in self.epochs]) if self.epochs else np.array([])
                 for key in ("model", "epoch", "lr", "loss", "value", "val_loss", "val_value", "status")}
        order = np.lexsort((parts["epoch"], parts["model"])) if self.epochs else np.array([], np.int64)
        model = parts["model"][order].astype(np.int64)
        configs = plan.configs.drop(columns=["model", "lr"], errors="ignore")
        columns = {"model": model}
        columns.update({key: configs[key].to_numpy()[model] for key in configs.columns})
        lrs = plan.configs["lr"] if "lr" in plan.configs else pd.Series([], dtype=object)
        if any(training.is_schedule(lr) for lr in lrs):
            columns["schedule"] = np.array([repr(lr) if training.is_schedule(lr) else None for lr in lrs],
                                           dtype=object)[model]
        columns.update({"epoch": parts["epoch"][order].astype(np.int64), "lr": parts["lr"][order],
                        "loss": parts["loss"][order]})
        if metric:
            columns[metric] = parts["value"][order]
        columns["val_loss"] = parts["val_loss"][order]
        if metric:
            columns[f"val_{metric}"] = parts["val_value"][order]
        columns["status"] = parts["status"][order].astype(object)
        history = pd.DataFrame(columns)
        history.attrs["configs"] = plan.configs
        history.attrs["initial_loss"] = tuple(float(v) for v in self.initial_loss)
        return history


def run_many(trainer, plan: ManyPlan) -> pd.DataFrame:
    """Return the history of ``fit_many``: one row per model and epoch, after training ``trainer`` epoch by epoch.

    ``trainer`` is a backend's object with ``train_epoch(order) -> (loss,
    metric)`` (length-M arrays: each model's mean loss and metric over the
    epoch's batches, each taken before its update), ``evaluate() -> (val_loss,
    val_metric)`` on the validation data (length-M arrays) and ``freeze(ids)``
    (stop updating those models). All models see the same batches, in the
    order of :func:`lrlab.training.epoch_orders` with ``plan.fit.seed``. The
    loop ends after ``epochs`` epochs or when every model has diverged.
    """
    history = ManyHistory(plan)
    nan = np.full(plan.size, math.nan)
    for epoch, order in enumerate(training.epoch_orders(len(plan.fit.x), plan.fit.epochs, plan.fit.seed)):
        loss, value = trainer.train_epoch(order)
        val_loss, val_value = (nan, nan) if plan.fit.val is None else trainer.evaluate()
        diverged = history.record(epoch, loss, value, val_loss, val_value)
        if len(diverged):
            trainer.freeze(diverged)
        if not history.alive.any():
            break
    return history.table()

