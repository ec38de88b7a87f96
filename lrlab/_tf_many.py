"""``fit_many``'s trainer for TensorFlow: M copies of an MLP trained together (``lrlab._torch_many`` mirrors it).

:meth:`lrlab.backend.Backend.fit_many` (``lrlab.tf.fit_many``) checks the call
and runs the epoch loop of :func:`lrlab.many.run_many`; this module holds the
trainer that loop drives (:func:`trainer`) and :func:`device_name`. The M models' weights are stacked along a
leading model axis (kernels ``(M, in, out)``, biases ``(M, out)``); one batch
goes through all of them with one ``einsum`` (first layer, the batch is
shared) and batched ``matmul`` s (later layers), ``tf.GradientTape`` gives each
model's gradient (the gradient of the sum of the M losses: no operation mixes
models), and a hand-written update applies each model's own hyperparameters.
The whole epoch is one compiled ``tf.function`` (a ``tf.while_loop`` over the
full batches, then the last partial batch), as :func:`lrlab.tf.fit` compiles
its epoch.

The update is Keras's, formula for formula and in Keras's order, so that
``fit_many`` equals M separate :func:`lrlab.tf.fit` calls up to float rounding
(tests/test_fit_many.py): with η the LR of update k (kept in float32, as
Keras keeps its LR variable), t = k + 1, and μ, wd, β₁, β₂ rounded through
float32 where Keras's ``ops.cast`` rounds them (ε, ρ and 1 − β enter as Python
floats):

* ``sgd``: ``w ← w − w·wd·η`` (decoupled decay, before the step), ``w ← w − g·η``;
* ``momentum``: ``v ← μ·v − g·η; w ← w + v``; ``nesterov``: the same v, then ``w ← w + μ·v − g·η``;
* ``adam``: ``α = η·√(1−β₂ᵗ)/(1−β₁ᵗ)``, ``m ← m + (g−m)(1−β₁)``,
  ``v ← v + (g²−v)(1−β₂)``, ``w ← w − m·α/(√v + ε)`` (ε on the uncorrected √v);
* ``adamw``: the decoupled decay of ``sgd``, then the Adam step;
* ``rmsprop``: ``v ← ρ·v + (1−ρ)·g²``, ``w ← w − η·g/√(v + ε²)``.

CNNs (:class:`lrlab.training.CNNSpec`) go through the same trainer with
another forward pass (:class:`_CNNTrainer`): each convolution is im2col — the
zero-padded feature map ``(M, b, length, channels)`` cut into runs of
``stride`` positions, one reshaped ``tf.slice`` per group of ``stride`` taps,
concatenated into patches ``(M, b, out_length, width·channels)`` (their
gradients are pads; ``width`` strided slices, whose gradients TensorFlow
computes several times slower, took most of an epoch) — and one batched
``matmul`` with the kernels ``(M, width·channels, out)`` (the first layer's
patches are the batch's own, shared by all models: one ``einsum``); then the
flatten and the dense layer as in the MLP.

A diverged model is frozen: its LR becomes 0 and its weights and optimizer
state are set to zero, so it computes finite zeros and never changes again.

Tracing the compiled epoch costs as much as 10–20 epochs of a small grid, so
the last 8 trainers are kept by graph signature (architecture, optimizer, loss,
batch size, number of rows, M, device) and a later call with the same signature
reloads one — weights, optimizer state, LRs, hyperparameters and data are all
variables or arguments — instead of tracing again.
"""

from __future__ import annotations

from lrlab.determinism import configure_tensorflow

tf = configure_tensorflow()

from collections import OrderedDict  # noqa: E402

import numpy as np  # noqa: E402

from lrlab import many, training  # noqa: E402

__all__ = ["device_name", "trainer"]

_HIDDEN = {"relu": tf.nn.relu, "tanh": tf.math.tanh, "sigmoid": tf.math.sigmoid, "linear": tf.identity}
_OUTPUT = {"sigmoid": tf.math.sigmoid, "softmax": tf.nn.softmax, "linear": tf.identity}
#: the optimizer state each optimizer keeps per weight
_SLOTS = {"sgd": (), "momentum": ("m",), "nesterov": ("m",), "adam": ("m", "v"), "adamw": ("m", "v"),
          "rmsprop": ("v",)}


def device_name(device=None) -> str:
    """Return the TensorFlow device ``fit_many`` runs on: ``"/GPU:0"`` or ``"/CPU:0"``.

    ``None`` picks ``"/GPU:0"`` when ``tf.config.list_physical_devices("GPU")``
    lists one; see :func:`lrlab.many.select_device` for the allowed values.
    """
    gpu = bool(tf.config.list_physical_devices("GPU"))
    return "/GPU:0" if many.select_device(device, gpu, "TensorFlow") == "gpu" else "/CPU:0"


def _losses(loss, output):
    """Return ``f(logits (M, b, out), y (b, out)) -> (M,)``: each model's mean loss, cross-entropies from logits."""
    if loss == "binary_crossentropy":
        return lambda z, y: tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.broadcast_to(y, tf.shape(z)), logits=z), axis=[1, 2])
    if loss == "categorical_crossentropy":
        return lambda z, y: tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
            labels=tf.broadcast_to(y, tf.shape(z)), logits=z), axis=1)
    return lambda z, y: tf.reduce_mean(tf.square(output(z) - y), axis=[1, 2])


def _metrics(metric, loss, output):
    """Return ``f(logits, y) -> (M,)``: each model's mean metric (0 without one)."""
    if metric == "accuracy" and loss == "binary_crossentropy":
        return lambda z, y: tf.reduce_mean(tf.cast(tf.equal(z > 0, y > 0.5), z.dtype), axis=[1, 2])
    if metric == "accuracy":
        return lambda z, y: tf.reduce_mean(tf.cast(tf.equal(tf.argmax(z, -1), tf.argmax(y, -1)), z.dtype), axis=1)
    if metric == "mae":
        return lambda z, y: tf.reduce_mean(tf.abs(output(z) - y), axis=[1, 2])
    return lambda z, y: tf.zeros(tf.shape(z)[:1], z.dtype)


#: the hyperparameters Keras passes through ``ops.cast(python float, dtype)``, which rounds them to
#: float32 first; the others (ε, ρ and the complements 1 − β, 1 − ρ) enter its arithmetic as
#: Python floats, exactly in a float64 model
_VIA_FLOAT32 = ("momentum", "weight_decay", "beta_1", "beta_2")


def _per_model(name, values, dtype):
    """Return float64 ``values`` (M,) of hyperparameter ``name`` as Keras's update uses them, in ``dtype``."""
    return tf.cast(tf.constant(np.asarray(values, np.float32 if name in _VIA_FLOAT32 else np.float64)), dtype)


#: compiled trainers kept for reuse, most recent last (see :func:`trainer`)
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


def _signature(plan: many.ManyPlan, device: str) -> tuple:
    """Return what fixes a trainer's graph: architecture, optimizer, loss, batching, data size, M, device."""
    fit = plan.fit
    return (plan.spec, plan.optimizer, fit.loss, fit.metric, fit.batch_size, len(fit.x), plan.size, device,
            bool(np.any(plan.hyper.get("weight_decay", 0.0))))


def trainer(plan: many.ManyPlan, device: str) -> "_Trainer":
    """Return a trainer loaded with ``plan``: a cached one with the same graph (no retracing), else a new one.

    Tracing the compiled epoch costs about as much as 10–20 epochs of a small
    grid, and a chapter calls ``fit_many`` again and again with the same shapes
    (one call per seed or fold); every value of the plan lives in a variable or
    is passed as an argument, so :meth:`_Trainer.load` gives exactly a new
    trainer's start.
    """
    key = _signature(plan, device)
    kind = _CNNTrainer if isinstance(plan.spec, training.CNNSpec) else _Trainer
    found = _CACHE.pop(key, None) or kind(plan, device)
    _CACHE[key] = found
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    found.load(plan)
    return found


class _Trainer:
    """M models of one graph signature as stacked TensorFlow variables, and their compiled epoch."""

    def __init__(self, plan: many.ManyPlan, device: str):
        self.plan, self.device = plan, device
        spec, fit, size = plan.spec, plan.fit, plan.size
        self.dtype = tf.as_dtype(spec.dtype)
        self.hidden, output = _HIDDEN[spec.activation], _OUTPUT[spec.output_activation]
        self.loss_fn, self.metric_fn = _losses(fit.loss, output), _metrics(fit.metric, fit.loss, output)
        self.decay = _signature(plan, device)[-1]
        names = list(plan.hyper) + [f"1-{k}" for k in ("beta_1", "beta_2", "rho") if k in plan.hyper]
        with tf.device(device):
            self.kernels = [tf.Variable(tf.zeros(k.shape, self.dtype)) for k, _ in plan.init]
            self.biases = [tf.Variable(tf.zeros(b.shape, self.dtype)) for _, b in plan.init]
            self.weights = [v for pair in zip(self.kernels, self.biases) for v in pair]
            self.slots = {s: [tf.Variable(tf.zeros_like(w)) for w in self.weights] for s in _SLOTS[plan.optimizer]}
            self.iterations = tf.Variable(0, dtype=tf.int64)
            self.scale = tf.Variable(tf.ones(size, tf.float32))
            self.lrs = tf.Variable(tf.zeros((0, size), tf.float32), shape=tf.TensorShape([None, size]))
            self.hyper = {k: tf.Variable(tf.zeros(size, self.dtype)) for k in names}
        self.epoch_fn = tf.function(self._epoch)
        self.evaluate_fn = tf.function(self._evaluate)

    def load(self, plan: many.ManyPlan) -> None:
        """Set every variable to the start of ``plan`` (same signature): weights, state, LRs, hyperparameters."""
        self.plan, h = plan, plan.hyper
        for (kernel, bias), (k, b) in zip(zip(self.kernels, self.biases), plan.init):
            kernel.assign(k)
            bias.assign(b)
        for variable in (s for slots in self.slots.values() for s in slots):
            variable.assign(tf.zeros_like(variable))
        self.iterations.assign(0)
        self.scale.assign(tf.ones(plan.size, tf.float32))
        self.lrs.assign(plan.lrs.T.astype(np.float32))  # (updates, M): Keras keeps its LR in float32
        values = dict(h) | {f"1-{k}": 1 - h[k] for k in ("beta_1", "beta_2", "rho") if k in h}
        if plan.optimizer == "rmsprop":  # Keras's RMSprop adds ε' to v under the root; lrlab passes ε' = ε²
            values["epsilon"] = h["epsilon"] ** 2
        for name, variable in self.hyper.items():
            variable.assign(_per_model(name, values[name], self.dtype))
        with tf.device(self.device):
            self.x, self.y = tf.constant(plan.fit.x), tf.constant(plan.fit.y)
            self.val = None if plan.fit.val is None else tuple(tf.constant(a) for a in plan.fit.val)

    # --- the batched model ------------------------------------------------------------
    def _logits(self, x):
        h = tf.einsum("bi,mio->mbo", x, self.kernels[0]) + self.biases[0][:, None, :]
        for kernel, bias in zip(self.kernels[1:], self.biases[1:]):
            h = tf.matmul(self.hidden(h), kernel) + bias[:, None, :]
        return h

    def _step(self, xb, yb):
        """Run one update of every model on the batch; return each model's (loss, metric) before it."""
        with tf.GradientTape() as tape:
            z = self._logits(xb)
            losses = self.loss_fn(z, yb)
            total = tf.reduce_sum(losses)
        grads = tape.gradient(total, self.weights)
        lr = tf.cast(tf.gather(self.lrs, self.iterations) * self.scale, self.dtype)
        t = tf.cast(self.iterations + 1, self.dtype)
        for j, (w, g) in enumerate(zip(self.weights, grads)):
            shape = [-1] + [1] * (len(w.shape) - 1)
            self._update(j, w, g, lambda a, shape=shape: tf.reshape(a, shape), lr, t)
        self.iterations.assign_add(1)
        return losses, self.metric_fn(z, yb)

    def _update(self, j, w, g, b, lr, t):
        """Apply Keras's update of ``self.plan.optimizer`` to weight ``w`` (``b`` broadcasts an (M,) vector)."""
        name, h = self.plan.optimizer, self.hyper
        if name in ("sgd", "adamw") and self.decay:
            w.assign(w - w * b(h["weight_decay"]) * b(lr))
        if name == "sgd":
            w.assign_sub(g * b(lr))
        elif name in ("momentum", "nesterov"):
            m = self.slots["m"][j]
            m.assign(m * b(h["momentum"]) - g * b(lr))
            w.assign_add(m * b(h["momentum"]) - g * b(lr) if name == "nesterov" else m)
        elif name in ("adam", "adamw"):
            m, v = self.slots["m"][j], self.slots["v"][j]
            alpha = lr * tf.sqrt(1 - tf.pow(h["beta_2"], t)) / (1 - tf.pow(h["beta_1"], t))
            m.assign_add((g - m) * b(h["1-beta_1"]))
            v.assign_add((tf.square(g) - v) * b(h["1-beta_2"]))
            w.assign_sub((m * b(alpha)) / (tf.sqrt(v) + b(h["epsilon"])))
        else:
            v = self.slots["v"][j]
            v.assign(b(h["rho"]) * v + b(h["1-rho"]) * tf.square(g))
            w.assign_sub((b(lr) * g) / tf.sqrt(v + b(h["epsilon"])))

    def _epoch(self, order, x, y):
        fit = self.plan.fit
        n, size = len(fit.x), fit.batch_size
        full = n // size
        xs, ys = tf.gather(x, order), tf.gather(y, order)
        loss_sum = tf.zeros(self.plan.size, self.dtype)
        metric_sum = tf.zeros(self.plan.size, self.dtype)
        if full:
            xf = tf.reshape(xs[:full * size], (full, size, -1))
            yf = tf.reshape(ys[:full * size], (full, size, -1))
            for i in tf.range(full):
                loss, metric = self._step(xf[i], yf[i])
                loss_sum += loss * size
                metric_sum += metric * size
        if n > full * size:
            loss, metric = self._step(xs[full * size:], ys[full * size:])
            loss_sum += loss * (n - full * size)
            metric_sum += metric * (n - full * size)
        return loss_sum / n, metric_sum / n

    def _evaluate(self, x, y):
        z = self._logits(x)
        return self.loss_fn(z, y), self.metric_fn(z, y)

    # --- what lrlab.many.run_many calls -------------------------------------------------
    def train_epoch(self, order):
        with tf.device(self.device):
            loss, metric = self.epoch_fn(tf.constant(order), self.x, self.y)
        return loss.numpy(), metric.numpy()

    def evaluate(self):
        with tf.device(self.device):
            loss, metric = self.evaluate_fn(*self.val)
        return loss.numpy(), metric.numpy()

    def freeze(self, ids):
        keep = np.ones(self.plan.size, dtype=bool)
        keep[ids] = False
        self.scale.assign(np.where(keep, self.scale.numpy(), 0).astype(np.float32))
        for variable in self.weights + [s for slots in self.slots.values() for s in slots]:
            mask = tf.reshape(tf.constant(keep), [-1] + [1] * (len(variable.shape) - 1))
            variable.assign(tf.where(mask, variable, tf.zeros_like(variable)))



class _CNNTrainer(_Trainer):
    """M CNNs of one graph signature: the MLP trainer with an im2col forward pass (see the module's docstring)."""

    def _patches(self, h, j):
        """Return the im2col patches ``(..., out_length, width·channels)`` of ``h (..., length, channels)``.

        The taps come in groups of ``stride``: group t (taps s·t … s·t + s − 1) of every
        output position l is the run of s consecutive input positions s·(l + t) …, so
        the zero-padded map, cut to s·(out_length + t) positions from s·t, reshapes into
        ``(..., out_length, stride·channels)``; the groups side by side (the last one cut
        to the taps it has) are the patches: reshapes and contiguous slices, whose
        gradients are pads, instead of one strided slice per tap.
        """
        spec = self.plan.spec
        k, p, s, n_in, n_out = spec.kernel_size[j], spec.padding, spec.stride, spec.lengths[j], spec.lengths[j + 1]
        groups, channels = -(-k // s), h.shape[-1]
        reach = s * (n_out + groups - 1)  # the positions the groups span
        pad = [[0, 0]] * (len(h.shape) - 2) + [[p, max(reach - p - n_in, 0)], [0, 0]]
        hp, rank = tf.pad(h, pad), len(h.shape)
        shape = tf.concat([tf.shape(h)[:-2], [n_out, s * channels]], 0)
        parts = []
        for t in range(groups):  # tf.slice, not [...]: a strided slice's gradient is several times slower
            run = tf.reshape(tf.slice(hp, [0] * (rank - 2) + [s * t, 0], [-1] * (rank - 2) + [s * n_out, -1]), shape)
            taps = min(k - s * t, s)
            parts.append(run if taps == s else tf.slice(run, [0] * rank, [-1] * (rank - 1) + [taps * channels]))
        return parts[0] if groups == 1 else tf.concat(parts, axis=-1)

    def _logits(self, x):
        spec = self.plan.spec
        convs = len(spec.channels)
        patches = self._patches(x[:, :, None], 0)  # (b, n_out, width): the batch's own, shared
        h = tf.einsum("blk,mko->mblo", patches, self.kernels[0][:, :, 0, :]) + self.biases[0][:, None, None, :]
        for j in range(1, convs):
            h = self.hidden(h)
            patches = self._patches(h, j)
            shape = tf.shape(patches)
            kernel = tf.reshape(self.kernels[j], (shape[0], -1, spec.channels[j]))  # (M, width·in, out)
            z = tf.matmul(tf.reshape(patches, (shape[0], -1, shape[-1])), kernel)
            h = tf.reshape(z, (shape[0], shape[1], shape[2], spec.channels[j])) + self.biases[j][:, None, None, :]
        h = self.hidden(h)
        shape = tf.shape(h)
        h = tf.reshape(h, (shape[0], shape[1], -1))
        return tf.matmul(h, self.kernels[-1]) + self.biases[-1][:, None, :]
