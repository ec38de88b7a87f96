"""The TensorFlow 2 / Keras 3 training backend: :class:`lrlab.backend.Backend` in Keras calls.

Importing this module configures TensorFlow first (quiet logs, deterministic
ops, one thread: :func:`lrlab.determinism.configure_tensorflow`). The functions
are the bound methods of one backend object, ``BACKEND``; their signatures and
docstrings are the contract's (:mod:`lrlab.backend`), the same in
:mod:`lrlab.torch`. What the two backends share — the layer spec and the numpy
initial weights, lrlab's optimizer defaults, the batch order, the epoch loop,
the history table, the callbacks, ``fit``, ``lr_range_test`` and ``fit_many``
themselves — lives in :mod:`lrlab.backend`, :mod:`lrlab.training` and
:mod:`lrlab.callbacks`; this module only makes the Keras calls:

* ``mlp`` — a ``keras.Sequential`` of ``Dense`` layers and a final
  ``Activation`` layer, loaded with weights drawn once in numpy; ``cnn`` — a
  ``keras.Sequential`` of ``Reshape`` (one channel), ``ZeroPadding1D`` and
  ``"valid"`` ``Conv1D`` layers, ``Flatten``, ``Dense`` and ``Activation``;
* ``fit`` — native ``keras.optimizers`` and ``keras.optimizers.schedules``,
  driven by one compiled ``tf.function`` per epoch (a ``tf.while_loop`` over
  the batches: no per-step Python); a last partial batch is kept, as Keras does;
  ``schedule_unit="epoch"`` evaluates the schedule at ``step // steps_per_epoch``;
* ``fit_many`` — M models as stacked variables in one compiled epoch
  (``lrlab._tf_many``);
* ``descend`` — E000-1/E004-1/E004-4 on one float32 weight.

How ``optimizer(name, lr, ...)`` maps onto Keras's classes (lrlab's defaults,
:data:`lrlab.training.OPTIMIZERS`, are the same in both backends):

============ ====================================================================
``sgd``      ``SGD(lr, weight_decay=wd)``: decoupled ``w −= η·wd·w`` (equals
             torch's L2 form without momentum)
``momentum`` ``SGD(lr, momentum=μ)``: ``v ← μv − η g; w ← w + v``. torch keeps
             ``b ← μb + g; w ← w − η b``: the same at constant η (v = −η b); under a
             schedule Keras's velocity keeps the old LRs, torch's does not
``nesterov`` ``SGD(lr, momentum=μ, nesterov=True)`` (same remark)
``adam``     ``Adam(lr, beta_1, beta_2, epsilon)``: ε=1e-8 (Keras's own default is
             1e-7). Keras adds ε to √v before bias correction, torch to √v̂ after,
             so Keras's effective ε is ε/√(1−β₂ᵗ): 32ε at step 1, → ε
``adamw``    ``AdamW(lr, weight_decay=0.01, ...)`` (Keras's default is 0.004):
             decoupled ``w −= η·wd·w`` before the Adam step, as torch
``rmsprop``  ``RMSprop(lr, rho=0.9, epsilon=ε²)``: Keras divides by √(v + ε'),
             torch by √v + ε, so ε' = ε² makes both ≈ ε when v is tiny
============ ====================================================================
"""

from __future__ import annotations

from lrlab.determinism import configure_tensorflow

tf = configure_tensorflow()

import warnings  # noqa: E402

import keras  # noqa: E402  (after the environment above is set)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lrlab import _tf_many, training  # noqa: E402
from lrlab.backend import Backend  # noqa: E402
from lrlab.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau  # noqa: E402

__all__ = ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "cnn", "descend", "device_name", "evaluate", "fit",
           "fit_many", "load_model", "lr_range_test", "mlp", "optimizer", "predict", "set_weights", "weights"]


# ----------------------------------------------------------------------------------------
# learning rates and optimizers
# ----------------------------------------------------------------------------------------
def _keras_lr(lr):
    """Return what Keras takes as ``learning_rate`` for a float or an lrlab schedule."""
    return lr.to_keras() if training.is_schedule(lr) else float(lr)



class _PerEpoch(keras.optimizers.schedules.LearningRateSchedule):
    """A Keras schedule evaluated at the epoch index: ``schedule(step // steps_per_epoch)``."""

    def __init__(self, schedule, steps_per_epoch):
        self.schedule, self.steps_per_epoch = schedule, steps_per_epoch

    def __call__(self, step):
        return self.schedule(step // self.steps_per_epoch)

    def get_config(self):
        return {"steps_per_epoch": self.steps_per_epoch}


def _native_optimizer(spec: training.OptimizerSpec, steps_per_epoch=None):
    """Return the native Keras optimizer of ``spec``; with ``steps_per_epoch`` a schedule counts epochs."""
    lr = _keras_lr(spec.lr)
    if steps_per_epoch is not None and training.is_schedule(spec.lr):
        lr = _PerEpoch(lr, steps_per_epoch)
    h = spec.hyper
    optimizers = keras.optimizers
    if spec.name == "sgd":
        return optimizers.SGD(lr, weight_decay=h["weight_decay"] or None)
    if spec.name in ("momentum", "nesterov"):
        return optimizers.SGD(lr, momentum=h["momentum"], nesterov=spec.name == "nesterov")
    if spec.name == "adam":
        return optimizers.Adam(lr, beta_1=h["beta_1"], beta_2=h["beta_2"], epsilon=h["epsilon"])
    if spec.name == "adamw":
        return optimizers.AdamW(lr, weight_decay=h["weight_decay"], beta_1=h["beta_1"], beta_2=h["beta_2"],
                                epsilon=h["epsilon"])
    return optimizers.RMSprop(lr, rho=h["rho"], epsilon=h["epsilon"] ** 2)


def _loss_fn(loss, activation):
    """Return ``f(logits, y)``: the mean loss, cross-entropies computed from the logits."""
    if loss == "binary_crossentropy":
        return lambda z, y: tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
    if loss == "categorical_crossentropy":
        return lambda z, y: tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z))
    return lambda z, y: tf.reduce_mean(tf.square(activation(z) - y))


def _metric_fn(metric, loss, activation):
    """Return ``f(logits, y)``: the mean metric (accuracy: logit > 0, or argmax; mae), 0 without one."""
    if metric == "accuracy" and loss == "binary_crossentropy":
        return lambda z, y: tf.reduce_mean(tf.cast(tf.equal(z > 0, y > 0.5), z.dtype))
    if metric == "accuracy":
        return lambda z, y: tf.reduce_mean(tf.cast(tf.equal(tf.argmax(z, -1), tf.argmax(y, -1)), z.dtype))
    if metric == "mae":
        return lambda z, y: tf.reduce_mean(tf.abs(activation(z) - y))
    return lambda z, y: tf.zeros((), z.dtype)


def _weighted(model) -> list:
    """Return the layers with a kernel and a bias (``Dense``, ``Conv1D``), input first."""
    return [layer for layer in model.layers if isinstance(layer, (keras.layers.Dense, keras.layers.Conv1D))]


def _logits(model, x):
    for layer in model.layers[:-1]:
        x = layer(x)
    return x


def _evaluator(model, loss, metric):
    """Return a compiled ``f(x, y) -> (loss, metric)`` over the whole of ``x``."""
    activation = model.layers[-1]
    loss_fn, metric_fn = _loss_fn(loss, activation), _metric_fn(metric, loss, activation)

    @tf.function(reduce_retracing=True)
    def evaluate_all(x, y):
        z = _logits(model, x)
        return loss_fn(z, y), metric_fn(z, y)

    return evaluate_all



# ----------------------------------------------------------------------------------------
# fit's trainer
# ----------------------------------------------------------------------------------------
class _Trainer(training.TrainerBase):
    """Keras's side of ``fit``: the native optimizer and one compiled epoch (see :func:`fit`)."""

    suffix = ".keras"

    def __init__(self, model, spec, optimizer_spec, plan):
        self.model, self.variables, self.spec = model, model.trainable_variables, spec
        per_epoch = plan.steps_per_epoch if plan.schedule_unit == "epoch" else None
        self.optimizer = _native_optimizer(optimizer_spec, per_epoch)
        self.optimizer.build(self.variables)
        self.lr_settable = not training.is_schedule(optimizer_spec.lr)
        self.x, self.y = tf.constant(plan.x), tf.constant(plan.y)
        self.evaluate_all = _evaluator(model, plan.loss, plan.metric)
        activation = model.layers[-1]
        self.loss_fn = _loss_fn(plan.loss, activation)
        self.metric_fn = _metric_fn(plan.metric, plan.loss, activation)
        self.batch_size, self.dtype = plan.batch_size, spec.dtype
        self.epoch_fn = tf.function(self._epoch, reduce_retracing=True)

    def _epoch(self, order):
        xs, ys = tf.gather(self.x, order), tf.gather(self.y, order)
        n = tf.shape(order)[0]
        loss_sum = tf.zeros((), self.dtype)
        metric_sum = tf.zeros((), self.dtype)
        lr = tf.zeros((), tf.float32)
        for start in tf.range(0, n, self.batch_size):
            stop = tf.minimum(start + self.batch_size, n)
            xb, yb = xs[start:stop], ys[start:stop]
            with tf.GradientTape() as tape:
                z = _logits(self.model, xb)
                value = self.loss_fn(z, yb)
            gradients = tape.gradient(value, self.variables)
            lr = tf.cast(self.optimizer.learning_rate, tf.float32)
            self.optimizer.apply(gradients, self.variables)
            size = tf.cast(stop - start, self.dtype)
            loss_sum += value * size
            metric_sum += self.metric_fn(z, yb) * size
        count = tf.cast(n, self.dtype)
        return loss_sum / count, metric_sum / count, lr

    def train_epoch(self, order):
        loss, metric, lr = self.epoch_fn(tf.constant(order))
        return float(loss), float(metric), float(lr)

    def evaluate(self, x, y):
        loss, metric = self.evaluate_all(x, y)
        return float(loss), float(metric)

    def end_epoch(self):
        pass

    def weights(self):
        return weights(self.model)

    def set_weights(self, values):
        set_weights(self.model, values)

    def _write(self, path):
        with warnings.catch_warnings():  # Keras 3.15's saver calls np.array(tensor): numpy 2 deprecation noise
            warnings.simplefilter("ignore", DeprecationWarning)
            self.model.save(path)

    @property
    def lr(self) -> float:
        return float(self.optimizer.learning_rate.numpy())

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.learning_rate = value



# ----------------------------------------------------------------------------------------
# the backend
# ----------------------------------------------------------------------------------------
class _TensorFlow(Backend):
    """lrlab's contract (:class:`lrlab.backend.Backend`) in TensorFlow 2 / Keras 3 calls."""

    framework = "tf"

    # the framework calls of the shared evaluate, fit, lr_range_test and fit_many (Backend's hooks)
    _tensor = staticmethod(tf.constant)
    _evaluator = staticmethod(_evaluator)
    _trainer = _Trainer
    _many_trainer = staticmethod(_tf_many.trainer)

    def descend(self, loss, w0, lr, steps) -> pd.DataFrame:
        """Keras: ``keras.optimizers.SGD``; ``lr_next`` is ``optimizer.learning_rate`` after the update."""
        loss, w0, lr, steps = training.check_descend(loss, w0, lr, steps)
        optimizer = keras.optimizers.SGD(learning_rate=_keras_lr(lr))
        w = tf.Variable(np.float32(w0), dtype=tf.float32)
        rows = []
        for k in range(steps):
            lr_used = optimizer.learning_rate.numpy()
            with tf.GradientTape() as tape:
                value = loss(w)
            optimizer.apply_gradients([(tape.gradient(value, w), w)])
            rows.append((k, lr_used, optimizer.learning_rate.numpy(), loss(w).numpy(), w.numpy()))
        return training.descend_table(rows)

    def mlp(self, layers, activation="relu", output_activation="sigmoid", *, seed=0, weights=None,
            dtype="float64"):
        """Keras: a ``keras.Sequential`` of ``Dense`` layers, then an ``Activation`` layer."""
        spec = training.check_mlp(layers, activation, output_activation, dtype)
        hidden = [keras.layers.Dense(width, activation=spec.activation, dtype=spec.dtype)
                  for width in spec.sizes[1:-1]]
        model = keras.Sequential([keras.Input((spec.sizes[0],), dtype=spec.dtype), *hidden,
                                  keras.layers.Dense(spec.sizes[-1], dtype=spec.dtype),
                                  keras.layers.Activation(spec.output_activation, dtype=spec.dtype)])
        self.set_weights(model, training.initial_weights(spec, seed) if weights is None else weights)
        return model

    def cnn(self, channels=(25, 25, 25), kernel_size=(5, 3, 3), classes=10, activation="relu",
            output_activation="softmax", *, length=40, stride=2, padding=1, seed=0, weights=None, dtype="float64"):
        """Keras: ``Reshape((length, 1))``, then per convolution ``ZeroPadding1D(padding)`` and a ``"valid"``
        ``Conv1D`` (PyTorch's ``Conv1d(padding=p)``; Keras's ``"same"`` pads differently with stride 2), then
        ``Flatten``, ``Dense`` and an ``Activation`` layer."""
        spec = training.check_cnn(channels, kernel_size, classes, activation, output_activation, length=length,
                                  stride=stride, padding=padding, dtype=dtype)
        layers = [keras.Input((spec.length,), dtype=spec.dtype), keras.layers.Reshape((spec.length, 1),
                                                                                       dtype=spec.dtype)]
        for k, _, c_out in spec.shapes[:-1]:
            if spec.padding:
                layers.append(keras.layers.ZeroPadding1D(spec.padding, dtype=spec.dtype))
            layers.append(keras.layers.Conv1D(c_out, k, strides=spec.stride, activation=spec.activation,
                                              dtype=spec.dtype))
        layers += [keras.layers.Flatten(dtype=spec.dtype), keras.layers.Dense(spec.classes, dtype=spec.dtype),
                   keras.layers.Activation(spec.output_activation, dtype=spec.dtype)]
        model = keras.Sequential(layers)
        self.set_weights(model, training.initial_weights(spec, seed) if weights is None else weights)
        return model

    def _cnn_spec(self, model) -> training.CNNSpec:
        layers = model.layers
        convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv1D)]
        pads = [layer for layer in layers if isinstance(layer, keras.layers.ZeroPadding1D)]
        dense = layers[-2]
        if not isinstance(dense, keras.layers.Dense) or not isinstance(layers[-1], keras.layers.Activation):
            raise training.ParameterError(f"model = {model!r} is not allowed; expected a model made by lrlab.tf.cnn")
        return training.check_cnn(tuple(int(c.filters) for c in convs), tuple(int(c.kernel_size[0]) for c in convs),
                                  int(dense.units), convs[0].activation.__name__, layers[-1].activation.__name__,
                                  length=int(layers[0].target_shape[0]), stride=int(convs[0].strides[0]),
                                  padding=int(pads[0].padding[0]) if pads else 0, dtype=dense.kernel.dtype)

    def _spec(self, model) -> training.MLPSpec:
        if isinstance(model, keras.Sequential) and any(isinstance(x, keras.layers.Conv1D) for x in model.layers):
            return self._cnn_spec(model)
        layers = getattr(model, "layers", None)
        if not isinstance(model, keras.Sequential) or len(layers) < 2 \
                or not isinstance(layers[-1], keras.layers.Activation) \
                or not all(isinstance(layer, keras.layers.Dense) for layer in layers[:-1]):
            raise training.ParameterError(f"model = {model!r} is not allowed; expected a model made by lrlab.tf.mlp")
        dense = layers[:-1]
        sizes = (int(dense[0].kernel.shape[0]),) + tuple(int(layer.units) for layer in dense)
        activation = dense[0].activation.__name__ if len(dense) > 1 else "relu"
        return training.check_mlp(sizes, activation, layers[-1].activation.__name__, dense[0].kernel.dtype)

    def weights(self, model) -> list:
        self._spec(model)
        return [(layer.kernel.numpy().copy(), layer.bias.numpy().copy()) for layer in _weighted(model)]

    def set_weights(self, model, weights) -> None:
        for layer, (kernel, bias) in zip(_weighted(model), training.check_weights(self._spec(model), weights)):
            layer.kernel.assign(kernel)
            layer.bias.assign(bias)

    def predict(self, model, x) -> np.ndarray:
        spec = self._spec(model)
        x, _ = training.check_data((x, np.zeros((len(x), spec.sizes[-1]))), "x", spec)
        return np.asarray(model(x))

    def device_name(self, device=None) -> str:
        """TensorFlow: ``"/GPU:0"`` (when ``tf.config.list_physical_devices("GPU")`` lists one) or ``"/CPU:0"``."""
        return _tf_many.device_name(device)

    def load_model(self, path):
        """Keras: a ``.keras`` archive."""
        return keras.saving.load_model(path, compile=False)


#: the backend object whose bound methods are this module's functions
BACKEND = _TensorFlow()
FRAMEWORK = BACKEND.framework
(cnn, descend, device_name, evaluate, fit, fit_many, load_model, lr_range_test, mlp, optimizer, predict,
 set_weights, weights) = BACKEND.functions()  # in lrlab.backend.FUNCTIONS order (tests/test_backend_contract.py checks)
