"""``fit_many`` for PyTorch: M copies of an MLP trained together; :mod:`lrlab.tf_many` mirrors it.

Exported as ``lrlab.torch.fit_many``. The M models' weights live in one
``(M, P)`` tensor (P weights per model), each layer's kernel ``(M, in, out)``
and bias ``(M, out)`` a view of it, and so do the gradients and the optimizer
state: a batch goes through all models with batched matrix products
(``baddbmm``/``bmm``, the batch shared by the first layer), the backward pass
is written out by hand under ``torch.no_grad`` (no autograd graph: the MLP's
gradients are a few more ``bmm`` s), and the optimizer update is a handful of
element-wise operations on the whole ``(M, P)`` tensor whatever the depth,
with each model's hyperparameters as an ``(M, 1)`` column. Measured on this
machine against ``torch.func.vmap(grad(...))`` and per-layer updates, this was
the fastest (benchmarks/run.py).

The update is torch's, formula for formula, so that ``fit_many`` equals M
separate :func:`lrlab.torch.fit` calls up to float rounding
(tests/test_fit_many.py): with η the LR of update k and t = k + 1,

* ``sgd``: ``g ← g + wd·w`` (L2, which without momentum is Keras's decoupled decay), ``w ← w − η·g``;
* ``momentum``: ``b ← μ·b + g; w ← w − η·b``; ``nesterov``: ``w ← w − η·(g + μ·b)``;
* ``adam``: ``m ← m + (1−β₁)(g−m)``, ``v ← β₂·v + (1−β₂)·g²``,
  ``w ← w − α·m/(√v + ε)`` with ``α = η·√(1−β₂ᵗ)/(1−β₁ᵗ)``: Keras's ε
  form, which :func:`lrlab.torch.fit` gets from torch's Adam by the ε of
  :func:`lrlab.training.adam_epsilon` (the same algebra, computed as one factor);
* ``adamw``: ``w ← w·(1 − η·wd)``, then the Adam step;
* ``rmsprop``: ``v ← ρ·v + (1−ρ)·g²``, ``w ← w − η·g/(√v + ε)``.

A diverged model is dropped from the batch: its rows of every tensor are cut
out, so it never changes again and costs nothing from the next epoch on.
"""

from __future__ import annotations

import os

from lrlab.determinism import configure_torch

# cuBLAS needs this before CUDA starts to be deterministic (torch.use_deterministic_algorithms); no effect on CPU
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
torch = configure_torch()

import numpy as np  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from lrlab import many, training  # noqa: E402

__all__ = ["device_name", "fit_many"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_SLOTS = {"sgd": (), "momentum": ("b",), "nesterov": ("b",), "adam": ("m", "v"), "adamw": ("m", "v"),
          "rmsprop": ("v",)}


def device_name(device=None) -> str:
    """Return the torch device ``fit_many`` runs on: ``"cuda"`` or ``"cpu"``.

    ``None`` picks ``"cuda"`` when ``torch.cuda.is_available()``; see
    :func:`lrlab.many.select_device` for the allowed values.
    """
    return "cuda" if many.select_device(device, torch.cuda.is_available(), "PyTorch") == "gpu" else "cpu"


def _model(model):
    """Return ``(spec, initial weights or None)`` of a model made by :func:`lrlab.torch.mlp` or an MLPSpec."""
    if isinstance(model, training.MLPSpec):
        return training.check_mlp(model.sizes, model.activation, model.output_activation, model.dtype), None
    from lrlab import torch as lpt

    return lpt._spec(model), lpt.weights(model)


# ----------------------------------------------------------------------------------------
# activations, losses and metrics with their gradients, batched over models
# ----------------------------------------------------------------------------------------
_HIDDEN = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}
#: d(loss)/d(z) from d(loss)/d(a) and a = activation(z)
_HIDDEN_BACKWARD = {
    "relu": lambda da, a: torch.ops.aten.threshold_backward(da, a, 0),
    "tanh": torch.ops.aten.tanh_backward,
    "sigmoid": torch.ops.aten.sigmoid_backward,
    "linear": lambda da, a: da,
}
_OUTPUT = {"sigmoid": torch.sigmoid, "softmax": lambda z: torch.softmax(z, -1), "linear": lambda z: z}
_OUTPUT_BACKWARD = {
    "sigmoid": torch.ops.aten.sigmoid_backward,
    "softmax": lambda da, a: a * (da - (da * a).sum(-1, keepdim=True)),
    "linear": lambda da, a: da,
}


def _loss_and_grad(loss, output):
    """Return ``f(z (M, b, out), y (b, out)) -> (losses (M,), d(sum of losses)/dz)``, cross-entropies from logits."""
    if loss == "binary_crossentropy":
        def bce(z, y):
            y = y.expand_as(z)
            value = F.binary_cross_entropy_with_logits(z, y, reduction="none").mean((1, 2))
            return value, (torch.sigmoid(z) - y).div_(z.shape[1] * z.shape[2])
        return bce
    if loss == "categorical_crossentropy":
        def cce(z, y):
            log_p = torch.log_softmax(z, -1)
            value = -(log_p * y).sum(-1).mean(1)
            return value, (log_p.exp_() * y.sum(-1, keepdim=True) - y).div_(z.shape[1])
        return cce
    forward, backward = _OUTPUT[output], _OUTPUT_BACKWARD[output]

    def mse(z, y):
        a = forward(z)
        error = a - y
        return error.square().mean((1, 2)), backward(error.mul(2 / (z.shape[1] * z.shape[2])), a)
    return mse


def _metric(metric, loss, output):
    """Return ``f(z, y) -> (M,)``: each model's mean metric (0 without one)."""
    if metric == "accuracy" and loss == "binary_crossentropy":
        return lambda z, y: ((z > 0) == (y > 0.5)).to(z.dtype).mean((1, 2))
    if metric == "accuracy":
        return lambda z, y: (z.argmax(-1) == y.argmax(-1)).to(z.dtype).mean(1)
    if metric == "mae":
        return lambda z, y: (_OUTPUT[output](z) - y).abs().mean((1, 2))
    return lambda z, y: z.new_zeros(z.shape[0])


# ----------------------------------------------------------------------------------------
# the trainer
# ----------------------------------------------------------------------------------------
def _column(values, dtype, device):
    """Return an ``(M, 1)`` tensor (or ``(updates, M, 1)`` from an ``(M, updates)`` table)."""
    values = np.asarray(values, dtype=np.float64)
    values = values.T if values.ndim == 2 else values
    return torch.tensor(values[..., None], dtype=dtype, device=device)


class _Trainer:
    """The M models of a :class:`~lrlab.many.ManyPlan` as one ``(M, P)`` tensor, trained batch by batch."""

    def __init__(self, plan: many.ManyPlan, device: str):
        self.plan, self.device = plan, torch.device(device)
        spec, fit, h = plan.spec, plan.fit, plan.hyper
        self.dtype = _DTYPES[spec.dtype]
        self.ids = np.arange(plan.size)
        self.hidden, self.hidden_backward = _HIDDEN[spec.activation], _HIDDEN_BACKWARD[spec.activation]
        self.loss_and_grad = _loss_and_grad(fit.loss, spec.output_activation)
        self.metric_fn = _metric(fit.metric, fit.loss, spec.output_activation)
        column = lambda v: _column(v, self.dtype, self.device)  # noqa: E731
        weights = np.concatenate([a.reshape(plan.size, -1) for pair in plan.init for a in pair], axis=1)
        self.tensors = {"w": torch.tensor(weights, dtype=self.dtype, device=self.device)}
        for slot in _SLOTS[plan.optimizer]:
            self.tensors[slot] = torch.zeros_like(self.tensors["w"])
        self.columns = {k: column(v) for k, v in h.items()}
        self.columns.update({f"1-{k}": column(1 - h[k]) for k in ("beta_1", "beta_2", "rho") if k in h})
        self.tables = {"lr": column(plan.lrs)}
        if plan.optimizer in ("adam", "adamw"):
            t = np.arange(1, plan.updates + 1)
            b1, b2 = h["beta_1"][:, None], h["beta_2"][:, None]
            self.tables["alpha"] = column(plan.lrs * np.sqrt(1 - b2 ** t) / (1 - b1 ** t))
        if plan.optimizer == "adamw":
            self.tables["decay"] = column(1 - plan.lrs * h["weight_decay"][:, None])
        self.decay_sgd = plan.optimizer == "sgd" and bool(np.any(h["weight_decay"]))
        self.x, self.y = (torch.from_numpy(a).to(self.device) for a in (fit.x, fit.y))
        self.val = None if fit.val is None else tuple(torch.from_numpy(a).to(self.device) for a in fit.val)
        self.k = 0
        self._views()

    def _views(self):
        """Point each layer's (kernel, bias) and gradient views into the ``(M, P)`` tensors."""
        m = len(self.ids)
        self.tensors["g"] = torch.empty_like(self.tensors["w"])
        self.layers, self.grads, start = [], [], 0
        for fan_in, fan_out in self.plan.spec.shapes:
            end = start + fan_in * fan_out
            for target, name in ((self.layers, "w"), (self.grads, "g")):
                flat = self.tensors[name]
                target.append((flat[:, start:end].view(m, fan_in, fan_out), flat[:, end:end + fan_out]))
            start = end + fan_out

    # --- forward, backward, update ------------------------------------------------------
    def _forward(self, x):
        """Return ``(logits (M, b, out), inputs of each layer)``; the first input is x, shared by all models."""
        h = x.expand(len(self.ids), *x.shape)
        inputs = []
        for j, (kernel, bias) in enumerate(self.layers):
            if j:
                h = self.hidden(h)
            inputs.append(h)
            h = torch.baddbmm(bias.unsqueeze(1), h, kernel)
        return h, inputs

    def _backward(self, dz, inputs):
        """Write each model's gradients into the ``g`` tensor, from d(loss)/d(logits)."""
        for j in range(len(self.layers) - 1, -1, -1):
            (kernel, _), (g_kernel, g_bias) = self.layers[j], self.grads[j]
            torch.bmm(inputs[j].transpose(1, 2), dz, out=g_kernel)
            torch.sum(dz, 1, out=g_bias)
            if j:
                dz = self.hidden_backward(torch.bmm(dz, kernel.transpose(1, 2)), inputs[j])

    def _update(self):
        """Apply torch's update of ``plan.optimizer`` to every model (update ``self.k``)."""
        name, k, c = self.plan.optimizer, self.k, self.columns
        w, g, lr = self.tensors["w"], self.tensors["g"], self.tables["lr"][k]
        if name == "sgd":
            if self.decay_sgd:
                g.addcmul_(w, c["weight_decay"])
            w.addcmul_(g, lr, value=-1)
        elif name in ("momentum", "nesterov"):
            b = self.tensors["b"]
            b.mul_(c["momentum"]).add_(g)
            w.addcmul_(g.addcmul_(b, c["momentum"]) if name == "nesterov" else b, lr, value=-1)
        elif name in ("adam", "adamw"):
            m, v = self.tensors["m"], self.tensors["v"]
            if name == "adamw":
                w.mul_(self.tables["decay"][k])
            m.lerp_(g, c["1-beta_1"])
            v.mul_(c["beta_2"]).addcmul_(g.mul(c["1-beta_2"]), g)
            step = torch.div(m, v.sqrt().add_(c["epsilon"]))
            w.addcmul_(step, self.tables["alpha"][k], value=-1)
        else:
            v = self.tensors["v"]
            v.mul_(c["rho"]).addcmul_(g.mul(c["1-rho"]), g)
            w.addcmul_(torch.div(g, v.sqrt().add_(c["epsilon"])), lr, value=-1)

    # --- what lrlab.many.run_many calls -------------------------------------------------
    def _full(self, values) -> np.ndarray:
        """Return a length-M float64 array: ``values`` of the models still in the batch, NaN for the others."""
        out = np.full(self.plan.size, np.nan)
        out[self.ids] = values.double().cpu().numpy()
        return out

    def train_epoch(self, order):
        with torch.no_grad():
            index = torch.from_numpy(order).to(self.device)
            xs, ys = self.x[index], self.y[index]
            loss_sum = xs.new_zeros(len(self.ids))
            metric_sum = xs.new_zeros(len(self.ids))
            for xb, yb in zip(xs.split(self.plan.fit.batch_size), ys.split(self.plan.fit.batch_size)):
                z, inputs = self._forward(xb)
                loss, dz = self.loss_and_grad(z, yb)
                loss_sum.add_(loss, alpha=len(xb))
                metric_sum.add_(self.metric_fn(z, yb), alpha=len(xb))
                self._backward(dz, inputs)
                self._update()
                self.k += 1
            return self._full(loss_sum / len(order)), self._full(metric_sum / len(order))

    def evaluate(self):
        with torch.no_grad():
            z, _ = self._forward(self.val[0])
            loss, _ = self.loss_and_grad(z, self.val[1])
            return self._full(loss), self._full(self.metric_fn(z, self.val[1]))

    def freeze(self, ids):
        keep = np.flatnonzero(~np.isin(self.ids, ids))
        index = torch.from_numpy(keep).to(self.device)
        self.ids = self.ids[keep]
        self.tensors = {name: t[index] for name, t in self.tensors.items() if name != "g"}
        self.columns = {name: t[index] for name, t in self.columns.items()}
        self.tables = {name: t[:, index] for name, t in self.tables.items()}
        self._views()


def fit_many(model, train, val=None, *, optimizer, loss, epochs, batch_size=32, configs, schedule_unit="step",
             seed=0, metric=None, device=None):
    """Return the history of M models trained together, one row per model and epoch (E000-5, C000-1).

    ``model`` is a model made by :func:`lrlab.torch.mlp` (it stays untouched; every
    configuration without ``init_seed`` starts from its weights) or an
    :class:`lrlab.training.MLPSpec` (those start from ``initial_weights(spec,
    0)``). ``configs`` lists one dict per model (or a DataFrame, one row per
    model; :func:`lrlab.many.grid` makes a grid) setting any of
    :data:`lrlab.many.CONFIG_KEYS`: ``lr`` (a float or an lrlab schedule), the
    optimizer's hyperparameters and ``init_seed``; what a configuration leaves
    out comes from ``optimizer`` — a name (``"sgd"``, ``"momentum"``,
    ``"nesterov"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``) with lrlab's
    defaults, or :func:`lrlab.torch.optimizer` ``(name, lr, ...)``. The other
    arguments are :func:`lrlab.torch.fit`'s, shared by all models: the same data,
    batches and batch order (``seed``), epochs and schedule unit. ``device``:
    ``None`` (CUDA if torch sees it), ``"cpu"`` or ``"gpu"``.

    Model m's rows equal what ``fit`` returns for its configuration alone, up to
    float rounding; columns: ``model``, one per configuration key other than
    ``lr`` (and ``schedule``, the repr of each schedule, when there is one),
    then ``fit``'s: ``epoch``, ``lr``, ``loss``, the metric, ``val_loss``,
    ``val_<metric>``, ``status``. ``lr`` is the float64 reference LR of the
    epoch's last update (for a float LR, the LR itself). A model whose loss
    turns NaN or infinite has ``status == "diverged"`` on that epoch and no
    later rows; the others train on. ``attrs["configs"]`` holds the models'
    configurations.
    """
    spec, weights = _model(model)
    name = device_name(device)
    plan = many.check_many(spec, weights, optimizer, train, val, loss=loss, metric=metric, epochs=epochs,
                           batch_size=batch_size, configs=configs, schedule_unit=schedule_unit, seed=seed)
    return many.run_many(_Trainer(plan, name), plan)
