"""``fit_many``'s trainer for PyTorch: M copies of an MLP trained together (``lrlab._tf_many`` mirrors it).

:meth:`lrlab.backend.Backend.fit_many` (``lrlab.torch.fit_many``) checks the call
and runs the epoch loop of :func:`lrlab.many.run_many`; this module holds the
trainer that loop drives (:func:`trainer`) and :func:`device_name`. The M models' weights live in one
``(M, P)`` tensor (P weights per model), each layer's kernel ``(M, in, out)``
and bias ``(M, out)`` a view of it, and so do the gradients and the optimizer
state: a batch goes through all models with batched matrix products
(``baddbmm``/``bmm``, the batch shared by the first layer), the backward pass
is written out by hand under ``torch.inference_mode`` (no autograd graph: the MLP's
gradients are a few more ``bmm`` s), and the optimizer update is a handful of
element-wise operations on the whole ``(M, P)`` tensor whatever the depth,
with each model's hyperparameters as an ``(M, 1)`` column (a Python float,
torch's own scalar path, when all models share it). Measured on this 2-core
machine (M = 64, the seed-001 network, batches of 32, one thread): forward and
backward by hand take 0.7 ms an update, ``torch.func.vmap(grad(loss))`` over
the stacked weights 1.7 ms.

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

CNNs (:class:`lrlab.training.CNNSpec`, :class:`_CNNTrainer`) use the same
``(M, P)`` tensors and updates with an im2col forward pass — each activation
written into the inside of a zero-bordered feature map ``(M, b, length +
2·padding, channels)``, its patches ``(M, b, out_length, width·channels)`` one
strided view of that map copied once, one ``baddbmm`` with the kernels ``(M,
width·channels, out)`` (the first layer's patches are the batch's own: one
``addmm`` for all models) — and its hand-written backward: the kernel gradient
is ``patchesᵀ·dz``, the input gradient ``dz·kernelᵀ`` folded back onto the
positions each patch came from (col2im by groups of ``stride`` taps: one
strided copy, then one addition per further group). Every intermediate lives in
a buffer kept from update to update: at M = 16 the maps are megabytes, and
allocating and zero-filling them each update cost more than the products
(``make bench``, section e, times the products alone).

A diverged model is dropped from the batch: its rows of every tensor are cut
out, so it never changes again and costs nothing from the next epoch on.
"""

from __future__ import annotations

import math
import os

from lrlab.determinism import configure_torch

# cuBLAS needs this before CUDA starts to be deterministic (torch.use_deterministic_algorithms); no effect on CPU
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
torch = configure_torch()

import numpy as np  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from lrlab import many, training  # noqa: E402

__all__ = ["device_name", "trainer"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_SLOTS = {"sgd": (), "momentum": ("b",), "nesterov": ("b",), "adam": ("m", "v"), "adamw": ("m", "v"),
          "rmsprop": ("v",)}


def device_name(device=None) -> str:
    """Return the torch device ``fit_many`` runs on: ``"cuda"`` or ``"cpu"``.

    ``None`` picks ``"cuda"`` when ``torch.cuda.is_available()``; see
    :func:`lrlab.many.select_device` for the allowed values.
    """
    return "cuda" if many.select_device(device, torch.cuda.is_available(), "PyTorch") == "gpu" else "cpu"


# ----------------------------------------------------------------------------------------
# activations, losses and metrics with their gradients, batched over models
# ----------------------------------------------------------------------------------------
#: a = activation(z), in place (z is not needed again)
_HIDDEN = {"relu": torch.relu_, "tanh": torch.tanh_, "sigmoid": torch.sigmoid_, "linear": lambda z: z}
#: a = activation(z) written into ``out`` (a strided view: the inside of a padded map)
_HIDDEN_OUT = {"relu": lambda z, out: torch.clamp_min(z, 0, out=out), "tanh": lambda z, out: torch.tanh(z, out=out),
               "sigmoid": lambda z, out: torch.sigmoid(z, out=out), "linear": lambda z, out: out.copy_(z)}
#: d(loss)/d(z) written into ``out`` (d(loss)/d(a) itself, or a buffer), from d(loss)/d(a) and a (either may
#: be a strided view)
_HIDDEN_BACKWARD = {
    "relu": lambda da, a, out: torch.ops.aten.threshold_backward.grad_input(da, a, 0, grad_input=out),
    "tanh": lambda da, a, out: torch.ops.aten.tanh_backward.grad_input(da, a, grad_input=out),
    "sigmoid": lambda da, a, out: torch.ops.aten.sigmoid_backward.grad_input(da, a, grad_input=out),
    "linear": lambda da, a, out: out.copy_(da),
}
_OUTPUT = {"sigmoid": torch.sigmoid, "softmax": lambda z: torch.softmax(z, -1), "linear": lambda z: z}
_OUTPUT_BACKWARD = {
    "sigmoid": torch.ops.aten.sigmoid_backward,
    "softmax": lambda da, a: a * (da - (da * a).sum(-1, keepdim=True)),
    "linear": lambda da, a: da,
}


def _loss_and_grad(loss, output):
    """Return ``f(z (M, b, out), y (b, out), grad) -> (losses, dz)``: cross-entropies computed from the logits.

    ``losses`` (M,) is each model's loss summed over the batch's rows (a row's loss is
    its mean over the outputs, as ``fit``'s mean over the batch then is ``losses / b``);
    ``dz`` is the gradient of that mean with respect to the logits (None unless ``grad``).
    """
    def per_row(total, z):
        return total if z.shape[2] == 1 else total.div_(z.shape[2])

    if loss == "binary_crossentropy":
        def bce(z, y, grad=True):
            y = y.expand_as(z)
            value = per_row(F.binary_cross_entropy_with_logits(z, y, reduction="none").sum((1, 2)), z)
            return value, (torch.sigmoid(z).sub_(y).div_(z.shape[1] * z.shape[2]) if grad else None)
        return bce
    if loss == "categorical_crossentropy":
        def cce(z, y, grad=True):
            log_p = torch.log_softmax(z, -1)
            value = -(log_p * y).sum((1, 2))
            return value, ((log_p.exp_() * y.sum(-1, keepdim=True) - y).div_(z.shape[1]) if grad else None)
        return cce
    forward, backward = _OUTPUT[output], _OUTPUT_BACKWARD[output]

    def mse(z, y, grad=True):
        a = forward(z)
        error = a - y
        value = per_row(error.square().sum((1, 2)), z)
        return value, (backward(error.mul_(2 / (z.shape[1] * z.shape[2])), a) if grad else None)
    return mse


def _metric(metric, loss, output):
    """Return ``f(z, y) -> (M,)``: each model's metric summed over the batch's rows (0 without one).

    Accuracy comes back as a count (an integer tensor, exact when added to a float sum).
    """
    if metric == "accuracy" and loss == "binary_crossentropy":
        def binary(z, y):
            correct = torch.eq(z > 0, y > 0.5).sum((1, 2))
            return correct if z.shape[2] == 1 else correct.to(z.dtype).div_(z.shape[2])
        return binary
    if metric == "accuracy":
        return lambda z, y: torch.eq(z.argmax(-1), y.argmax(-1)).sum(1)
    if metric == "mae":
        return lambda z, y: (_OUTPUT[output](z) - y).abs_().sum((1, 2)).div_(z.shape[2])
    return lambda z, y: z.new_zeros(z.shape[0])


# ----------------------------------------------------------------------------------------
# the trainer
# ----------------------------------------------------------------------------------------
def _column(values, dtype, device):
    """Return an ``(M, 1)`` tensor (or ``(updates, M, 1)`` from an ``(M, updates)`` table)."""
    values = np.asarray(values, dtype=np.float64)
    values = values.T if values.ndim == 2 else values
    return torch.tensor(values[..., None], dtype=dtype, device=device)


def _hyper(values, dtype, device):
    """Return a hyperparameter: a Python float when all models share it (torch's own scalar path), else a column."""
    return float(values[0]) if np.all(values == values[0]) else _column(values, dtype, device)


def _add_scaled(y, x, a):
    """Compute ``y += a·x`` in place, ``a`` a float or an ``(M, 1)`` column; return y."""
    return y.add_(x, alpha=a) if isinstance(a, float) else y.addcmul_(x, a)


def _add_square(v, g, a):
    """Compute ``v += a·g²`` in place (torch's ``addcmul_(g, g, value=a)`` for a float a); return v."""
    return v.addcmul_(g, g, value=a) if isinstance(a, float) else v.addcmul_(g.mul(a), g)


class _Trainer:
    """The M models of a :class:`~lrlab.many.ManyPlan` as one ``(M, P)`` tensor, trained batch by batch."""

    def __init__(self, plan: many.ManyPlan, device: str):
        self.plan, self.device = plan, torch.device(device)
        spec, fit, h = plan.spec, plan.fit, plan.hyper
        self.dtype = _DTYPES[spec.dtype]
        self.tiny = torch.finfo(self.dtype).tiny
        self.ids = np.arange(plan.size)
        self.hidden, self.hidden_backward = _HIDDEN[spec.activation], _HIDDEN_BACKWARD[spec.activation]
        self.loss_and_grad = _loss_and_grad(fit.loss, spec.output_activation)
        self.metric_fn = _metric(fit.metric, fit.loss, spec.output_activation)
        column = lambda v: _column(v, self.dtype, self.device)  # noqa: E731
        weights = np.concatenate([a.reshape(plan.size, -1) for pair in plan.init for a in pair], axis=1)
        self.tensors = {"w": torch.tensor(weights, dtype=self.dtype, device=self.device)}
        for slot in _SLOTS[plan.optimizer]:
            self.tensors[slot] = torch.zeros_like(self.tensors["w"])
        self.columns = {k: _hyper(v, self.dtype, self.device) for k, v in h.items()}
        self.columns.update({f"1-{k}": _hyper(1 - h[k], self.dtype, self.device)
                             for k in ("beta_1", "beta_2", "rho") if k in h})
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
        """Point each layer's (kernel, bias) and gradient views into the ``(M, P)`` tensors; split the tables."""
        m = len(self.ids)
        self.tensors["g"] = torch.empty_like(self.tensors["w"])
        self.scratch = torch.empty_like(self.tensors["w"])
        self.layers, self.grads, start = [], [], 0
        for shape in self.plan.spec.shapes:  # (fan_in, fan_out), or a convolution's (width, in, out)
            rows, width = math.prod(shape[:-1]), shape[-1]
            end = start + rows * width
            for target, name in ((self.layers, "w"), (self.grads, "g")):
                flat = self.tensors[name]
                target.append((flat[:, start:end].view(m, rows, width), flat[:, end:end + width]))
            start = end + width
        self.kernels_t = [kernel.transpose(1, 2) for kernel, _ in self.layers]
        self.biases = [bias.unsqueeze(1) for _, bias in self.layers]
        self.per_update = {name: list(table.unbind(0)) for name, table in self.tables.items()}
        self.buffers = {}

    # --- forward, backward, update ------------------------------------------------------
    def _buffer(self, name, shape, zeros=False):
        """Return a reusable tensor for the intermediate ``name`` of this shape (no allocation per update).

        ``zeros``: made of zeros, so that what is never written (a padded map's borders) stays zero.
        """
        key = (name, tuple(shape))
        if key not in self.buffers:
            self.buffers[key] = (torch.zeros if zeros else torch.empty)(shape, dtype=self.dtype, device=self.device)
        return self.buffers[key]

    def _forward(self, x):
        """Return ``(logits (M, b, out), inputs of each layer)``; the first input is x, shared by all models."""
        m, b = len(self.ids), len(x)
        h = x.expand(m, *x.shape)
        inputs = []
        for j, ((kernel, _), bias) in enumerate(zip(self.layers, self.biases)):
            if j:
                h = self.hidden(h)
            inputs.append(h)
            z = self._buffer(("z", j), (m, b, kernel.shape[2]))
            if kernel.shape[2] == 1:  # one output: a row-wise dot product beats M one-column gemm calls
                product = torch.mul(h, self.kernels_t[j], out=self._buffer(("hk", j), h.shape))
                h = torch.sum(product, -1, keepdim=True, out=z).add_(bias)
            else:
                h = torch.baddbmm(bias, h, kernel, out=z)
        return h, inputs

    def _backward(self, dz, inputs):
        """Write each model's gradients into the ``g`` tensor, from d(loss)/d(logits)."""
        for j in range(len(self.layers) - 1, -1, -1):
            g_kernel, g_bias = self.grads[j]
            a = inputs[j]
            narrow = g_kernel.shape[2] == 1  # one output: element-wise products, as in _forward
            if narrow:
                torch.sum(torch.mul(a, dz, out=self._buffer(("hk", j), a.shape)), 1, out=g_kernel[:, :, 0])
            else:  # bmm(out=) a strided view of g is 2x slower than into a buffer and a copy
                g_kernel.copy_(torch.bmm(a.transpose(1, 2), dz, out=self._buffer(("dk", j), g_kernel.shape)))
            torch.sum(dz, 1, out=g_bias)
            if j:
                da = self._buffer(("da", j), a.shape)
                da = torch.mul(dz, self.kernels_t[j], out=da) if narrow else torch.bmm(dz, self.kernels_t[j], out=da)
                dz = self.hidden_backward(da, a, da)

    def _update(self):
        """Apply torch's update of ``plan.optimizer`` to every model (update ``self.k``)."""
        name, k, c, per_update = self.plan.optimizer, self.k, self.columns, self.per_update
        w, g, lr = self.tensors["w"], self.tensors["g"], per_update["lr"][k]
        if name == "sgd":
            if self.decay_sgd:
                _add_scaled(g, w, c["weight_decay"])
            w.addcmul_(g, lr, value=-1)
        elif name in ("momentum", "nesterov"):
            b = self.tensors["b"]
            b.mul_(c["momentum"]).add_(g)
            w.addcmul_(_add_scaled(g, b, c["momentum"]) if name == "nesterov" else b, lr, value=-1)
        elif name in ("adam", "adamw"):
            m, v = self.tensors["m"], self.tensors["v"]
            if name == "adamw":
                w.mul_(per_update["decay"][k])
            m.lerp_(g, c["1-beta_1"])
            _add_square(v.mul_(c["beta_2"]), g, c["1-beta_2"])
            step = torch.div(m, self._root(v).add_(c["epsilon"]), out=self.scratch)
            w.addcmul_(step, per_update["alpha"][k], value=-1)
        else:
            v = self.tensors["v"]
            _add_square(v.mul_(c["rho"]), g, c["1-rho"])
            w.addcmul_(torch.div(g, self._root(v).add_(c["epsilon"]), out=self.scratch), lr, value=-1)

    def _root(self, v):
        """Return √v computed as √(v + tiny), tiny the dtype's smallest normal number.

        torch's CPU ``sqrt`` is ~5× slower on zeros (which dead ReLU units leave
        in v) than on other numbers; adding ``tiny`` (1.2e-38 in float32) leaves
        every v ≥ 2e-31 unchanged and moves √v by less than 1e-19 elsewhere,
        where ε = 1e-8 is what the denominator √v + ε holds.
        """
        return torch.add(v, self.tiny, out=self.scratch).sqrt_()

    # --- what lrlab.many.run_many calls -------------------------------------------------
    def _full(self, values) -> np.ndarray:
        """Return a length-M float64 array: ``values`` of the models still in the batch, NaN for the others."""
        out = np.full(self.plan.size, np.nan)
        out[self.ids] = values.double().cpu().numpy()
        return out

    def train_epoch(self, order):
        with torch.inference_mode():
            index = torch.from_numpy(order).to(self.device)
            xs, ys = self.x[index], self.y[index]
            loss_sum = xs.new_zeros(len(self.ids))
            metric_sum = xs.new_zeros(len(self.ids))
            for xb, yb in zip(xs.split(self.plan.fit.batch_size), ys.split(self.plan.fit.batch_size)):
                z, inputs = self._forward(xb)
                loss, dz = self.loss_and_grad(z, yb)
                loss_sum.add_(loss)
                metric_sum.add_(self.metric_fn(z, yb))
                self._backward(dz, inputs)
                self._update()
                self.k += 1
            return self._full(loss_sum / len(order)), self._full(metric_sum / len(order))

    def evaluate(self):
        with torch.inference_mode():
            (x, y), n = self.val, len(self.val[0])
            z, _ = self._forward(x)
            loss, _ = self.loss_and_grad(z, y, grad=False)
            return self._full(loss / n), self._full(self.metric_fn(z, y).to(self.dtype) / n)

    def freeze(self, ids):
        keep = np.flatnonzero(~np.isin(self.ids, ids))
        index = torch.from_numpy(keep).to(self.device)
        self.ids = self.ids[keep]
        self.tensors = {name: t[index] for name, t in self.tensors.items() if name != "g"}
        self.columns = {name: t if isinstance(t, float) else t[index] for name, t in self.columns.items()}
        self.tables = {name: t[:, index] for name, t in self.tables.items()}
        self._views()



class _CNNTrainer(_Trainer):
    """M CNNs as one ``(M, P)`` tensor: im2col convolutions and their hand-written backward (module docstring)."""

    def _patches(self, h, j):
        """Return the im2col patches ``(..., out_length, width·channels)`` of ``h (..., length, channels)``."""
        spec = self.plan.spec
        padded = F.pad(h, (0, 0, spec.padding, spec.padding)) if spec.padding else h
        windows = padded.unfold(-2, spec.kernel_size[j], spec.stride)  # (..., out_length, channels, width)
        return windows.transpose(-1, -2).reshape(*windows.shape[:-2], -1).contiguous()

    def _convolve(self, z, j, b):
        """Return ``(a, patches, z)`` of convolution j from ``z`` of the one before: activation, im2col, product.

        ``a = activation(z)`` is written into the inside of a zero-bordered map
        ``(M, b, length + 2·padding, channels)`` kept from update to update; its
        patches are one strided view of that map (rows ``stride·channels`` apart,
        ``width·channels`` long), copied once into a kept buffer for the product.
        """
        spec, m, p = self.plan.spec, len(self.ids), self.plan.spec.padding
        k, s, c, n_in, n_out = spec.kernel_size[j], spec.stride, spec.channels[j - 1], *spec.lengths[j:j + 2]
        padded = self._buffer(("padded", j), (m, b, n_in + 2 * p, c), zeros=True)
        a = _HIDDEN_OUT[spec.activation](z, padded[:, :, p:p + n_in])
        windows = padded.as_strided((m, b, n_out, k * c), (b * (n_in + 2 * p) * c, (n_in + 2 * p) * c, s * c, 1))
        patches = self._buffer(("patches", j), windows.shape).copy_(windows)
        rows = patches.view(m, b * n_out, k * c)
        z = self._buffer(("z", j), (m, b * n_out, spec.channels[j]))
        torch.baddbmm(self.biases[j], rows, self.layers[j][0], out=z)
        return a, patches, z.view(m, b, n_out, spec.channels[j])

    def _forward(self, x):
        """Return ``(logits (M, b, classes), (inputs of each layer, output of each convolution))``."""
        spec, m, b = self.plan.spec, len(self.ids), len(x)
        patches = self._patches(x.unsqueeze(-1), 0)  # (b, length, width): the batch's own, shared by all models
        inputs, outputs = [patches], []
        (width, _, channels), (kernel, bias) = spec.shapes[0], self.layers[0]
        kernels = kernel.permute(1, 0, 2).reshape(width, m * channels)  # one product for all models: (width, M·out)
        z = self._buffer(("z", 0), (b * spec.lengths[1], m * channels))
        torch.addmm(bias.reshape(-1), patches.view(-1, width), kernels, out=z)
        z = z.view(b, spec.lengths[1], m, channels).permute(2, 0, 1, 3)
        for j in range(1, len(spec.channels)):
            a, patches, z = self._convolve(z, j, b)
            outputs.append(a)
            inputs.append(patches)
        flat = self._buffer("flat", (m, b, spec.lengths[-1] * spec.channels[-1]))
        outputs.append(_HIDDEN_OUT[spec.activation](z, flat.view(z.shape)))
        inputs.append(flat)
        logits = self._buffer("logits", (m, b, spec.classes))
        return torch.baddbmm(self.biases[-1], flat, self.layers[-1][0], out=logits), (inputs, outputs)

    def _backward(self, dz, cache):
        """Write each model's gradients into the ``g`` tensor, from d(loss)/d(logits)."""
        spec, (inputs, outputs), m = self.plan.spec, cache, len(self.ids)
        g_kernel, g_bias = self.grads[-1]
        g_kernel.copy_(torch.bmm(inputs[-1].transpose(1, 2), dz, out=self._buffer(("dk", -1), g_kernel.shape)))
        torch.sum(dz, 1, out=g_bias)
        da = torch.bmm(dz, self.kernels_t[-1], out=self._buffer(("da", -1), inputs[-1].shape)).view(outputs[-1].shape)
        for j in range(len(spec.channels) - 1, -1, -1):
            dz = self.hidden_backward(da, outputs[j], self._buffer(("dz", j), outputs[j].shape))
            dz = dz.view(m, -1, spec.channels[j])
            g_kernel, g_bias = self.grads[j]
            if j == 0:
                patches = inputs[0].reshape(1, -1, inputs[0].shape[-1])
                g_kernel.copy_(torch.matmul(patches.transpose(1, 2), dz))
            else:
                patches = inputs[j].view(m, -1, inputs[j].shape[-1])
                g_kernel.copy_(torch.bmm(patches.transpose(1, 2), dz, out=self._buffer(("dk", j), g_kernel.shape)))
            torch.sum(dz, 1, out=g_bias)
            if j:
                da = self._fold(torch.bmm(dz, self.kernels_t[j], out=self._buffer(("dp", j), patches.shape)), j)

    def _fold(self, d_patches, j):
        """Return d(loss)/d(input of convolution j) (a strided view) from d(loss)/d(patches): col2im.

        The taps of a patch come in groups of ``stride``: group t (taps s·t … s·t + s − 1)
        of output position l lands on the s consecutive input positions s·(l + t) …,
        so each group is one strided copy (t = 0: the groups of different l do not
        overlap) or addition (t ≥ 1) of rows ``stride·channels`` long, in the order
        of the taps: bit for bit the sum of the taps in order.
        """
        spec, m = self.plan.spec, len(self.ids)
        k, s, c, n_out = spec.kernel_size[j], spec.stride, spec.channels[j - 1], spec.lengths[j + 1]
        b, groups = d_patches.shape[1] // n_out, -(-k // s)
        d_patches = d_patches.view(m, b, n_out, k * c)
        out = self._buffer(("fold", j), (m, b, s * (n_out + groups - 1), c))
        (out if k < s else out[:, :, s * n_out:]).zero_()  # what group 0 leaves unwritten
        for t in range(groups):
            taps = min(k - s * t, s)
            target = out[:, :, s * t:s * (t + n_out)].view(m, b, n_out, s * c)[..., :taps * c]
            source = d_patches[..., s * t * c:(s * t + taps) * c]
            target.copy_(source) if t == 0 else target.add_(source)
        return out[:, :, spec.padding:spec.padding + spec.lengths[j]]


def trainer(plan: many.ManyPlan, device: str) -> _Trainer:
    """Return a trainer of the M models of ``plan`` on ``device`` (``"cpu"`` or ``"cuda"``)."""
    return (_CNNTrainer if isinstance(plan.spec, training.CNNSpec) else _Trainer)(plan, device)
