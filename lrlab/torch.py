"""The PyTorch training backend: :class:`lrlab.backend.Backend` in torch calls.

Importing this module configures PyTorch first (deterministic algorithms, one
thread: :func:`lrlab.determinism.configure_torch`). The functions are the bound
methods of one backend object, ``BACKEND``; their signatures and docstrings are
the contract's (:mod:`lrlab.backend`), the same in :mod:`lrlab.tf`. What the
two backends share — the layer spec and the numpy initial weights, lrlab's
optimizer defaults, the batch order, the epoch loop, the history table, the
callbacks, ``fit``, ``lr_range_test`` and ``fit_many`` themselves — lives in
:mod:`lrlab.backend`, :mod:`lrlab.training` and :mod:`lrlab.callbacks`; this
module only makes the torch calls (``import torch`` below is the real PyTorch:
imports are absolute):

* ``mlp`` — an ``nn.Sequential`` of ``Linear`` layers and activation
  modules, loaded with weights drawn once in numpy; ``cnn`` — an
  ``nn.Sequential`` of ``Unflatten`` (one channel), ``Conv1d`` and activation
  modules, a channels-last flatten and a ``Linear`` layer, loaded the same way;
* ``fit`` — native ``torch.optim`` optimizers (``foreach=True``) and
  ``torch.optim.lr_scheduler`` schedulers, over batches pre-sliced as views of
  one gathered tensor per epoch (no DataLoader, no per-step ``.item()``: the
  loss and metric are summed as tensors and read once per epoch); a schedule's
  scheduler is stepped after every ``optimizer.step()``
  (``schedule_unit="step"``) or once after each epoch (``"epoch"``);
* ``fit_many`` — M models as one ``(M, P)`` tensor with a hand-written
  backward pass (``lrlab._torch_many``);
* ``descend`` — E000-1/E004-1/E004-4 on one float32 weight.

How ``optimizer(name, lr, ...)`` maps onto torch's classes (lrlab's defaults,
:data:`lrlab.training.OPTIMIZERS`, are the same in both backends):

============ ====================================================================
``sgd``      ``SGD(lr, weight_decay=wd)``: L2 ``g += wd·w``, which without
             momentum is Keras's decoupled ``w −= η·wd·w``
``momentum`` ``SGD(lr, momentum=μ)``: ``b ← μb + g; w ← w − η b``. Keras keeps
             ``v ← μv − η g; w ← w + v``: the same at constant η (v = −η b); under a
             schedule Keras's velocity keeps the old LRs, torch's does not
``nesterov`` ``SGD(lr, momentum=μ, nesterov=True)`` (same remark)
``adam``     ``Adam(lr, betas=(beta_1, beta_2), eps=epsilon)``, ε=1e-8 (torch's
             default). torch adds ε to √v̂ (bias-corrected), Keras to √v, so
             Keras's effective ε is ε/√(1−β₂ᵗ): 32ε at step 1, → ε. lrlab runs
             Adam in Keras's form here too (a step pre-hook sets torch's ``eps``
             to :func:`lrlab.training.adam_epsilon`)
``adamw``    ``AdamW(lr, weight_decay=0.01, ...)`` (torch's default; Keras's is
             0.004): decoupled ``w ← w(1 − η·wd)`` before the Adam step, as Keras
``rmsprop``  ``RMSprop(lr, alpha=rho=0.9, eps=ε)`` (torch's default alpha is 0.99);
             torch divides by √v + ε, Keras by √(v + ε²)
============ ====================================================================
"""

from __future__ import annotations

from lrlab.determinism import configure_torch

torch = configure_torch()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from lrlab import _torch_many, training  # noqa: E402
from lrlab.backend import Backend  # noqa: E402
from lrlab.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau  # noqa: E402
from lrlab.params import ParameterError  # noqa: E402

__all__ = ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "cnn", "descend", "device_name", "evaluate", "fit",
           "fit_many", "load_model", "lr_range_test", "mlp", "optimizer", "predict", "set_weights", "weights"]


# ----------------------------------------------------------------------------------------
# learning rates, optimizers, losses and metrics
# ----------------------------------------------------------------------------------------
def _scheduler(lr, optimizer):
    """Return the torch LR scheduler of an lrlab schedule, or None for a float LR."""
    return lr.to_torch(optimizer) if training.is_schedule(lr) else None


def _initial_lr(lr) -> float:
    """Return the LR to build a torch optimizer with (a schedule's scheduler overrides it)."""
    return float(lr(0)) if training.is_schedule(lr) else float(lr)


_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity,
                "softmax": lambda: nn.Softmax(dim=-1)}
_NAMES = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Identity: "linear", nn.Softmax: "softmax"}
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class ChannelsLastFlatten(nn.Module):
    """Flatten ``(n, channels, length)`` position-major, as Keras's ``Flatten`` of ``(n, length, channels)``."""

    def forward(self, h):
        return h.transpose(1, 2).flatten(1)


def _cnn_layers(model) -> list:
    """Return the ``Conv1d`` and ``Linear`` layers of a model made by ``cnn``."""
    return [m for m in model if isinstance(m, (nn.Conv1d, nn.Linear))]


def _is_cnn(model) -> bool:
    return isinstance(model, nn.Sequential) and len(model) > 0 and isinstance(model[0], nn.Unflatten)


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



# ----------------------------------------------------------------------------------------
# fit's trainer
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


# ----------------------------------------------------------------------------------------
# the backend
# ----------------------------------------------------------------------------------------
class _Torch(Backend):
    """lrlab's contract (:class:`lrlab.backend.Backend`) in PyTorch calls."""

    framework = "torch"

    # the framework calls of the shared evaluate, fit, lr_range_test and fit_many (Backend's hooks)
    _tensor = staticmethod(torch.from_numpy)
    _evaluator = staticmethod(_evaluator)
    _trainer = _Trainer
    _many_trainer = staticmethod(_torch_many.trainer)

    def descend(self, loss, w0, lr, steps) -> pd.DataFrame:
        """torch: ``torch.optim.SGD`` stepped as ``optimizer.step(); scheduler.step()``; ``lr_next`` is
        ``scheduler.get_last_lr()[0]`` after the update."""
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

    def mlp(self, layers, activation="relu", output_activation="sigmoid", *, seed=0, weights=None,
            dtype="float64"):
        """torch: an ``nn.Sequential`` of ``Linear`` layers and activation modules (``Linear.weight`` holds
        the kernel's transpose). torch's own initializer never runs, so torch's global random state is left
        alone."""
        spec = training.check_mlp(layers, activation, output_activation, dtype)
        modules = []
        for j, (fan_in, fan_out) in enumerate(spec.shapes):
            modules.append(nn.utils.skip_init(nn.Linear, fan_in, fan_out, dtype=_DTYPES[spec.dtype]))
            last = j == len(spec.shapes) - 1
            modules.append(_ACTIVATIONS[spec.output_activation if last else spec.activation]())
        model = nn.Sequential(*modules)
        self.set_weights(model, training.initial_weights(spec, seed) if weights is None else weights)
        return model

    def cnn(self, channels=(25, 25, 25), kernel_size=(5, 3, 3), classes=10, activation="relu",
            output_activation="softmax", *, length=40, stride=2, padding=1, seed=0, weights=None, dtype="float64"):
        """torch: ``nn.Sequential(Unflatten(1, (1, length)), Conv1d, activation, ..., ChannelsLastFlatten,
        Linear, output activation)``; ``Conv1d.weight`` holds the kernel ``(width, in, out)`` as ``(out, in,
        width)``."""
        spec = training.check_cnn(channels, kernel_size, classes, activation, output_activation, length=length,
                                  stride=stride, padding=padding, dtype=dtype)
        kind = _DTYPES[spec.dtype]
        modules = [nn.Unflatten(1, (1, spec.length))]
        for k, c_in, c_out in spec.shapes[:-1]:
            modules += [nn.utils.skip_init(nn.Conv1d, c_in, c_out, k, stride=spec.stride, padding=spec.padding,
                                           dtype=kind), _ACTIVATIONS[spec.activation]()]
        flat, classes = spec.shapes[-1]
        modules += [ChannelsLastFlatten(), nn.utils.skip_init(nn.Linear, flat, classes, dtype=kind),
                    _ACTIVATIONS[spec.output_activation]()]
        model = nn.Sequential(*modules)
        self.set_weights(model, training.initial_weights(spec, seed) if weights is None else weights)
        return model

    def _cnn_spec(self, model) -> training.CNNSpec:
        convs, dense = _cnn_layers(model)[:-1], _cnn_layers(model)[-1]
        activations = [m for m in model if type(m) in _NAMES]
        if not convs or not all(isinstance(m, nn.Conv1d) for m in convs) or not isinstance(dense, nn.Linear):
            raise ParameterError(f"model = {type(model).__name__} is not allowed; expected a model made by "
                                 "lrlab.torch.cnn")
        dtype = {v: k for k, v in _DTYPES.items()}[dense.weight.dtype]
        return training.check_cnn(tuple(m.out_channels for m in convs), tuple(m.kernel_size[0] for m in convs),
                                  dense.out_features, _NAMES[type(activations[0])], _NAMES[type(activations[-1])],
                                  length=int(model[0].unflattened_size[-1]), stride=convs[0].stride[0],
                                  padding=convs[0].padding[0], dtype=dtype)

    def _spec(self, model) -> training.MLPSpec:
        if _is_cnn(model):
            return self._cnn_spec(model)
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

    def weights(self, model) -> list:
        self._spec(model)
        if _is_cnn(model):
            return [(layer.weight.detach().numpy().transpose(2, 1, 0).copy() if isinstance(layer, nn.Conv1d)
                     else layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy())
                    for layer in _cnn_layers(model)]
        return [(layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy())
                for layer in model[0::2]]

    def set_weights(self, model, weights) -> None:
        if _is_cnn(model):
            with torch.no_grad():
                for layer, (kernel, bias) in zip(_cnn_layers(model),
                                                 training.check_weights(self._spec(model), weights)):
                    layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))  # (w, in, out) -> (out, in, w)
                    layer.bias.copy_(torch.from_numpy(bias))
            return
        with torch.no_grad():
            for layer, (kernel, bias) in zip(model[0::2], training.check_weights(self._spec(model), weights)):
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
                layer.bias.copy_(torch.from_numpy(bias))

    def predict(self, model, x) -> np.ndarray:
        spec = self._spec(model)
        x, _ = training.check_data((x, np.zeros((len(x), spec.sizes[-1]))), "x", spec)
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    def device_name(self, device=None) -> str:
        """torch: ``"cuda"`` (when ``torch.cuda.is_available()``) or ``"cpu"``."""
        return _torch_many.device_name(device)

    def load_model(self, path):
        """torch: a ``torch.save`` dictionary of the layer spec and the ``state_dict``."""
        saved = torch.load(path, weights_only=True)
        spec = saved["spec"]
        if spec.get("kind") == "cnn":
            model = self.cnn(spec["channels"], spec["kernel_size"], spec["classes"], spec["activation"],
                             spec["output_activation"], length=spec["length"], stride=spec["stride"],
                             padding=spec["padding"], dtype=spec["dtype"])
            model.load_state_dict(saved["state_dict"])
            return model
        model = self.mlp(spec["sizes"], spec["activation"], spec["output_activation"], dtype=spec["dtype"])
        model.load_state_dict(saved["state_dict"])
        return model


#: the backend object whose bound methods are this module's functions
BACKEND = _Torch()
FRAMEWORK = BACKEND.framework
(cnn, descend, device_name, evaluate, fit, fit_many, load_model, lr_range_test, mlp, optimizer, predict,
 set_weights, weights) = BACKEND.functions()  # in lrlab.backend.FUNCTIONS order (tests/test_backend_contract.py checks)
