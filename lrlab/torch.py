"""The PyTorch training backend; :mod:`lrlab.tf` mirrors it name for name.

Importing this module configures PyTorch first (deterministic algorithms, one
thread: :func:`lrlab.determinism.configure_torch`). What the two backends
share — the layer spec and the numpy initial weights, lrlab's optimizer
defaults, the batch order, the epoch loop, the history table, the callbacks —
lives in :mod:`lrlab.training` and :mod:`lrlab.callbacks`; this module only
makes the torch calls (``import torch`` below is the real PyTorch: imports are
absolute):

* :func:`mlp` — an ``nn.Sequential`` of ``Linear`` layers and activation
  modules, loaded with weights drawn once in numpy;
* :func:`optimizer` / :func:`fit` — native ``torch.optim`` optimizers and
  ``torch.optim.lr_scheduler`` schedulers, over batches pre-sliced as tensor
  views (no DataLoader, no per-step ``.item()``);
* :func:`descend` — E000-1/E004-1/E004-4 on one float32 weight.
"""

from __future__ import annotations

from lrlab.determinism import configure_torch

torch = configure_torch()

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from lrlab import range_test, training  # noqa: E402
from lrlab.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau  # noqa: E402
from lrlab.torch_many import fit_many  # noqa: E402  (M models at once)
from lrlab.params import ParameterError  # noqa: E402

__all__ = ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "descend", "evaluate", "fit", "fit_many",
           "load_model", "lr_range_test", "mlp", "optimizer", "predict", "set_weights", "weights"]

FRAMEWORK = "torch"


# ----------------------------------------------------------------------------------------
# descend: one weight, native SGD
# ----------------------------------------------------------------------------------------
def _scheduler(lr, optimizer):
    """Return the torch LR scheduler of an lrlab schedule, or None for a float LR."""
    return lr.to_torch(optimizer) if training.is_schedule(lr) else None


def _initial_lr(lr) -> float:
    """Return the LR to build a torch optimizer with (a schedule's scheduler overrides it)."""
    return float(lr(0)) if training.is_schedule(lr) else float(lr)


def descend(loss, w0, lr, steps):
    """Return one row per update of plain gradient descent on one float32 weight (torch SGD).

    Update k is ``w ← w − η_k·dL/dw`` (E000-1, E004-1), made by
    ``torch.optim.SGD`` with ``η`` a float or an lrlab schedule (E004-4),
    stepped as ``optimizer.step(); scheduler.step()``. Columns: ``step`` (k),
    ``lr_used`` (η_k, the LR update k used), ``lr_next`` (what
    ``scheduler.get_last_lr()[0]`` reports after the update, i.e. η_{k+1}:
    what TF1 printed), ``loss`` (L at the new weight) and ``w`` (the new
    weight), all float32.
    """
    loss, w0, lr, steps = training.check_descend(loss, w0, lr, steps)
    w = torch.tensor(np.float32(w0), dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=_initial_lr(lr))
    scheduler = _scheduler(lr, optimizer)
    group = optimizer.param_groups[0]
    rows = []
    for k in range(steps):
        lr_used = group["lr"]
        optimizer.zero_grad(set_to_none=True)
        loss(w).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        lr_next = scheduler.get_last_lr()[0] if scheduler is not None else group["lr"]
        with torch.no_grad():
            rows.append((k, lr_used, lr_next, loss(w).item(), w.item()))
    return training.descend_table(rows)


# ----------------------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------------------
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity,
                "softmax": lambda: nn.Softmax(dim=-1)}
_NAMES = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Identity: "linear", nn.Softmax: "softmax"}
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def mlp(layers, activation="relu", output_activation="sigmoid", *, seed=0, weights=None, dtype="float64"):
    """Return an ``nn.Sequential`` MLP whose initial weights were drawn in numpy (E001-1/2/3).

    ``layers`` lists widths from input to output: ``mlp((20, 64, 32, 1))`` is
    the seed-001 network, ``Linear(20, 64), ReLU, Linear(64, 32), ReLU,
    Linear(32, 1), Sigmoid``. The output activation is its own module so that
    ``fit`` computes the cross-entropies from the logits. The weights are
    :func:`lrlab.training.initial_weights` (``seed``) or the given
    ``[(kernel (in, out), bias), ...]``: identical to :func:`lrlab.tf.mlp`'s
    (``Linear.weight`` holds the kernel's transpose). torch's own initializer
    never runs, so torch's global random state is left alone.
    """
    spec = training.check_mlp(layers, activation, output_activation, dtype)
    modules = []
    for j, (fan_in, fan_out) in enumerate(spec.shapes):
        modules.append(nn.utils.skip_init(nn.Linear, fan_in, fan_out, dtype=_DTYPES[spec.dtype]))
        last = j == len(spec.shapes) - 1
        modules.append(_ACTIVATIONS[spec.output_activation if last else spec.activation]())
    model = nn.Sequential(*modules)
    set_weights(model, training.initial_weights(spec, seed) if weights is None else weights)
    return model


def _spec(model) -> training.MLPSpec:
    """Return the :class:`~lrlab.training.MLPSpec` of a model made by :func:`mlp`."""
    modules = list(model) if isinstance(model, nn.Sequential) else []
    linears, activations = modules[0::2], modules[1::2]
    if len(modules) < 2 or len(modules) % 2 or not all(isinstance(m, nn.Linear) for m in linears) \
            or not all(type(m) in _NAMES for m in activations):
        raise ParameterError(f"model = {type(model).__name__} is not allowed; expected a model made by "
                             "lrlab.torch.mlp")
    sizes = (linears[0].in_features,) + tuple(m.out_features for m in linears)
    activation = _NAMES[type(activations[0])] if len(linears) > 1 else "relu"
    dtype = {v: k for k, v in _DTYPES.items()}[linears[0].weight.dtype]
    return training.check_mlp(sizes, activation, _NAMES[type(activations[-1])], dtype)


def weights(model) -> list:
    """Return the model's weights as numpy ``[(kernel (in, out), bias), ...]`` (copies)."""
    _spec(model)
    return [(layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy()) for layer in model[0::2]]


def set_weights(model, weights) -> None:
    """Load numpy ``[(kernel (in, out), bias), ...]`` into the model (checked against its layers)."""
    with torch.no_grad():
        for layer, (kernel, bias) in zip(model[0::2], training.check_weights(_spec(model), weights)):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
            layer.bias.copy_(torch.from_numpy(bias))


def predict(model, x) -> np.ndarray:
    """Return the model's outputs (after its output activation) for the rows of ``x``, as numpy."""
    spec = _spec(model)
    x, _ = training.check_data((x, np.zeros((len(x), spec.sizes[-1]))), "x", spec)
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def load_model(path):
    """Return the model saved at ``path`` by :class:`ModelCheckpoint` (a ``torch.save`` dictionary)."""
    saved = torch.load(path, weights_only=True)
    spec = saved["spec"]
    model = mlp(spec["sizes"], spec["activation"], spec["output_activation"], dtype=spec["dtype"])
    model.load_state_dict(saved["state_dict"])
    return model


# ----------------------------------------------------------------------------------------
# optimizers, losses, metrics
# ----------------------------------------------------------------------------------------
def optimizer(name, lr, **kw) -> training.OptimizerSpec:
    """Return the optimizer ``name`` with learning rate ``lr`` (a float or an lrlab schedule).

    lrlab's defaults are the same in both backends (:data:`lrlab.training.OPTIMIZERS`);
    ``fit`` builds the native torch optimizer (``foreach=True``):

    ============ ====================================================================
    ``sgd``      ``SGD(lr, weight_decay=wd)``: L2 ``g += wd·w``, which without
                 momentum is Keras's decoupled ``w −= η·wd·w``
    ``momentum`` ``SGD(lr, momentum=μ)``: ``b ← μb + g; w ← w − η b``. Keras keeps
                 ``v ← μv − η g; w ← w + v``: the same at constant η (v = −η b); under a
                 schedule Keras's velocity keeps the old LRs, torch's does not
    ``nesterov`` ``SGD(lr, momentum=μ, nesterov=True)`` (same remark)
    ``adam``     ``Adam(lr, betas=(beta_1, beta_2), eps=epsilon)``, ε=1e-8 (torch's
                 default). torch adds ε to √v̂ (bias-corrected), Keras to √v, so
                 Keras's effective ε is ε/√(1−β₂ᵗ): 32ε at step 1, → ε
    ``adamw``    ``AdamW(lr, weight_decay=0.01, ...)`` (torch's default; Keras's is
                 0.004): decoupled ``w ← w(1 − η·wd)`` before the Adam step, as Keras
    ``rmsprop``  ``RMSprop(lr, alpha=rho=0.9, eps=ε)`` (torch's default alpha is 0.99);
                 torch divides by √v + ε, Keras by √(v + ε²)
    ============ ====================================================================
    """
    return training.check_optimizer(name, lr, **kw)


def _native_optimizer(spec: training.OptimizerSpec, params):
    """Return ``(native torch optimizer, native scheduler or None)`` of ``spec`` over ``params``."""
    h, lr, optim = spec.hyper, _initial_lr(spec.lr), torch.optim
    if spec.name == "sgd":
        native = optim.SGD(params, lr, weight_decay=h["weight_decay"], foreach=True)
    elif spec.name in ("momentum", "nesterov"):
        native = optim.SGD(params, lr, momentum=h["momentum"], nesterov=spec.name == "nesterov", foreach=True)
    elif spec.name in ("adam", "adamw"):
        kind = optim.Adam if spec.name == "adam" else optim.AdamW
        extra = {"weight_decay": h["weight_decay"]} if spec.name == "adamw" else {}
        native = kind(params, lr, betas=(h["beta_1"], h["beta_2"]), eps=h["epsilon"], foreach=True, **extra)
    else:
        native = optim.RMSprop(params, lr, alpha=h["rho"], eps=h["epsilon"], foreach=True)
    if spec.name in ("adam", "adamw"):
        native.register_step_pre_hook(_EpsilonHat(h["epsilon"], h["beta_2"]))
    return native, _scheduler(spec.lr, native)


class _EpsilonHat:
    """Step pre-hook: set Adam's ``eps`` so torch adds ε to √v as Keras does (``training.adam_epsilon``)."""

    def __init__(self, epsilon, beta_2):
        self.epsilon, self.beta_2, self.t = epsilon, beta_2, 0

    def __call__(self, optimizer, args, kwargs):
        self.t += 1
        eps = training.adam_epsilon(self.epsilon, self.beta_2, self.t)
        for group in optimizer.param_groups:
            group["eps"] = eps


def _loss_fn(loss, activation):
    """Return ``f(logits, y)``: the mean loss, cross-entropies computed from the logits."""
    if loss == "binary_crossentropy":
        return F.binary_cross_entropy_with_logits
    if loss == "categorical_crossentropy":
        return F.cross_entropy
    return lambda z, y: F.mse_loss(activation(z), y)


def _metric_fn(metric, loss, activation):
    """Return ``f(logits, y)``: the mean metric (accuracy: logit > 0, or argmax; mae), 0 without one."""
    if metric == "accuracy" and loss == "binary_crossentropy":
        return lambda z, y: ((z > 0) == (y > 0.5)).to(z.dtype).mean()
    if metric == "accuracy":
        return lambda z, y: (z.argmax(-1) == y.argmax(-1)).to(z.dtype).mean()
    if metric == "mae":
        return lambda z, y: (activation(z) - y).abs().mean()
    return lambda z, y: torch.zeros((), dtype=z.dtype)


def _evaluator(model, loss, metric):
    """Return ``f(x, y) -> (loss, metric)`` over the whole of ``x`` (tensors, no gradient)."""
    body, activation = model[:-1], model[-1]
    loss_fn, metric_fn = _loss_fn(loss, activation), _metric_fn(metric, loss, activation)

    def evaluate_all(x, y):
        with torch.no_grad():
            z = body(x)
            return loss_fn(z, y), metric_fn(z, y)

    return evaluate_all


def evaluate(model, data, *, loss, metric=None) -> dict:
    """Return ``{"loss": ..., metric: ...}`` of the model on ``data = (x, y)`` (e.g. the test set)."""
    spec = _spec(model)
    loss, metric = training.check_loss_metric(spec, loss, metric)
    x, y = training.check_data(data, "data", spec)
    value, measure = _evaluator(model, loss, metric)(torch.from_numpy(x), torch.from_numpy(y))
    return {"loss": float(value), **({metric: float(measure)} if metric else {})}


# ----------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------
class _Trainer(training.TrainerBase):
    """torch's side of ``fit``: the native optimizer and scheduler, one Python loop per epoch (see :func:`fit`)."""

    suffix = ".pt"

    def __init__(self, model, spec, optimizer_spec, plan):
        self.model, self.spec = model, spec
        self.body, activation = model[:-1], model[-1]
        self.optimizer, self.scheduler = _native_optimizer(optimizer_spec, model.parameters())
        self.group = self.optimizer.param_groups[0]
        self.per_step = plan.schedule_unit == "step"
        self.lr_settable = not training.is_schedule(optimizer_spec.lr)
        self.x, self.y = torch.from_numpy(plan.x), torch.from_numpy(plan.y)
        self.shuffle = plan.shuffle
        self.evaluate_all = _evaluator(model, plan.loss, plan.metric)
        self.loss_fn = _loss_fn(plan.loss, activation)
        self.metric_fn = _metric_fn(plan.metric, plan.loss, activation)
        self.batch_size = plan.batch_size

    def train_epoch(self, order):
        if not self.shuffle and len(order) == len(self.x):
            xs, ys = self.x, self.y  # without shuffling a whole epoch is the stored order: no gather
        else:
            index = torch.from_numpy(order)
            xs, ys = self.x[index], self.y[index]
        step = self.scheduler.step if (self.per_step and self.scheduler is not None) else None
        losses, logits, lr = [], [], self.group["lr"]
        full = self.batch_size >= len(xs)
        batches = [(xs, ys)] if full else zip(xs.split(self.batch_size), ys.split(self.batch_size))
        for xb, yb in batches:
            z = self.body(xb)
            value = self.loss_fn(z, yb)
            self.optimizer.zero_grad(set_to_none=True)
            value.backward()
            lr = self.group["lr"]
            self.optimizer.step()
            if step is not None:
                step()
            losses.append(value.detach())
            logits.append(z.detach())
        with torch.no_grad():
            if len(losses) == 1:  # full batch: the same arithmetic without stacking one value
                loss, metric = losses[0] * len(order) / len(order), self.metric_fn(logits[0], ys)
            else:
                sizes = torch.tensor([len(z) for z in logits], dtype=xs.dtype)
                loss = (torch.stack(losses) * sizes).sum() / len(order)
                metric = self.metric_fn(torch.cat(logits), ys)
        return loss.item(), metric.item(), lr

    def evaluate(self, x, y):
        loss, metric = self.evaluate_all(x, y)
        return loss.item(), metric.item()

    def end_epoch(self):
        if not self.per_step and self.scheduler is not None:
            self.scheduler.step()

    def weights(self):
        return weights(self.model)

    def set_weights(self, values):
        set_weights(self.model, values)

    def _write(self, path):
        torch.save({"spec": self.spec.as_dict(), "state_dict": self.model.state_dict()}, path)

    @property
    def lr(self) -> float:
        return float(self.group["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value


def fit(model, train, val=None, *, optimizer, loss, epochs, batch_size=32, schedule_unit="step", callbacks=(),
        seed=0, metric=None, shuffle=True):
    """Return the training history (one row per epoch) of ``model`` trained on ``train = (x, y)``.

    Each epoch visits the rows in the order of one seeded numpy permutation
    (:func:`lrlab.training.epoch_orders`, the same in :func:`lrlab.tf.fit`),
    cut into batches of ``batch_size`` (``None``: full batch; a last partial
    batch is kept). The batches are views of one gathered tensor per epoch; the
    loss and metric are summed as tensors and read once per epoch.
    ``optimizer`` comes from :func:`optimizer`; a schedule's native scheduler
    is stepped after every ``optimizer.step()`` (``schedule_unit="step"``) or
    once after each epoch (``"epoch"``: every update of epoch e uses ``s(e)``).
    ``loss`` is ``"binary_crossentropy"``, ``"categorical_crossentropy"`` or
    ``"mse"``; ``metric`` ``"accuracy"`` or ``"mae"`` (default: accuracy for the
    cross-entropies). ``callbacks``: :class:`EarlyStopping`,
    :class:`ModelCheckpoint`, :class:`ReduceLROnPlateau`.

    Columns: ``epoch``, ``lr`` (used by the epoch's last update), ``loss`` and
    the metric (means over the epoch's batches, each before its update),
    ``val_loss`` and ``val_<metric>`` (after the epoch; NaN without ``val``),
    ``status`` (``"ok"``, or ``"diverged"`` on the epoch whose loss was NaN,
    infinite or above 10x the initial loss — lrlab's one rule,
    :func:`lrlab.training.is_diverged` — which ends the run). See
    :func:`lrlab.training.run_epochs`.
    """
    spec = _spec(model)
    plan = training.check_fit(spec, optimizer, train, val, loss=loss, metric=metric, epochs=epochs,
                              batch_size=batch_size, schedule_unit=schedule_unit, callbacks=callbacks, seed=seed,
                              shuffle=shuffle)
    if plan.val is not None:
        plan = dataclasses.replace(plan, val=tuple(torch.from_numpy(a) for a in plan.val))
    return training.run_epochs(_Trainer(model, spec, optimizer, plan), plan)


# ----------------------------------------------------------------------------------------
# the LR range test
# ----------------------------------------------------------------------------------------
def lr_range_test(model, train, val=None, *, optimizer="sgd", loss, start_lr=1e-7, end_lr=10.0, num_it=100,
                  mode="exp", unit="step", batch_size=32, beta=0.98, stop_factor=4.0, seed=0, metric=None):
    """Return the LR range test of ``model`` on ``train`` (a :class:`lrlab.range_test.RangeTest`); weights restored.

    The LR rises from ``start_lr`` to ``end_lr`` over ``num_it`` updates
    (``unit="step"``, E002-1) or epochs (``unit="epoch"``, E004-2), exponentially
    (``mode="exp"``) or linearly (C001-2), as a native schedule of the
    ``optimizer`` (a name, or :func:`optimizer` whose LR the ramp replaces); the
    loss of every iteration is smoothed (``beta``) and the test stops early
    when the smoothed loss exceeds ``stop_factor`` times its minimum or is not
    finite. Batches follow the same seeded order as :func:`lrlab.tf.lr_range_test`.
    Defaults are fastai ``lr_find``'s; :mod:`lrlab.range_test` holds the rules,
    the suggestions and where they differ from fastai.
    """
    spec = _spec(model)
    fit_plan, plan = range_test.prepare(spec, train, val, optimizer=optimizer, loss=loss, metric=metric,
                                        start_lr=start_lr, end_lr=end_lr, num_it=num_it, mode=mode, unit=unit,
                                        batch_size=batch_size, beta=beta, stop_factor=stop_factor, seed=seed)
    if fit_plan.val is not None:
        fit_plan = dataclasses.replace(fit_plan, val=tuple(torch.from_numpy(a) for a in fit_plan.val))
    return range_test.run(_Trainer(model, spec, plan.optimizer, fit_plan), fit_plan, plan)
