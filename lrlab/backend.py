"""The backend contract as code: what :mod:`lrlab.tf` and :mod:`lrlab.torch` both implement, name for name.

:class:`Backend` is an abstract base class. Its public methods are the contract
(:data:`FUNCTIONS`): the same names, the same arguments and the same docstrings in
both frameworks. A backend module makes one instance, ``BACKEND``, and exports its
bound methods as module functions, so that ``lrlab.tf.fit`` and
``lrlab.torch.fit`` are one function with one signature and one docstring
(d2l's "one name, two frameworks")::

    from lrlab import tf as ltf, torch as lpt
    ltf.fit.__doc__ == lpt.fit.__doc__            # the contract's text, once

What is the same in both frameworks is written here, once: ``optimizer``,
``evaluate``, ``fit``, ``lr_range_test`` and ``fit_many`` check their arguments
and run the framework-free loops of :mod:`lrlab.training`,
:mod:`lrlab.range_test` and :mod:`lrlab.many`. A backend implements the rest —
the framework calls: the public methods marked abstract here (``mlp``,
``descend``, ``weights``, …; the docstring of an implementation adds its
framework's details after the contract's text) and a few private hooks (the
model spec of a built model, numpy to tensor, the compiled evaluator, the
trainer of ``fit`` and that of ``fit_many``). Defining a subclass whose
implementation's signature differs from the contract's raises ``TypeError``;
instantiating one that leaves a method out raises ``TypeError`` too (``abc``).

Nothing here imports TensorFlow or PyTorch.
"""

from __future__ import annotations

import abc
import dataclasses
import inspect

import numpy as np
import pandas as pd

from lrlab import many, range_test, training

__all__ = ["FUNCTIONS", "Backend"]

#: the public functions of a backend module (besides the callback classes of :mod:`lrlab.callbacks`,
#: which both export as ``EarlyStopping``, ``ModelCheckpoint`` and ``ReduceLROnPlateau``)
FUNCTIONS = ("cnn", "descend", "device_name", "evaluate", "fit", "fit_many", "load_model", "lr_range_test", "mlp",
             "optimizer", "predict", "set_weights", "weights")


class Backend(abc.ABC):
    """The contract of a training backend: the functions of :data:`FUNCTIONS`, with their shared logic."""

    #: the framework's name, as :func:`lrlab.load_backends` spells it: ``"tf"`` or ``"torch"``
    framework = ""

    def __init_subclass__(cls, **kwargs):
        """Check each implementation's signature against the contract; prefix its docstring with the contract's."""
        super().__init_subclass__(**kwargs)
        for name in FUNCTIONS:
            implementation, contract = cls.__dict__.get(name), getattr(Backend, name)
            if implementation is None:
                continue
            if inspect.signature(implementation) != inspect.signature(contract):
                raise TypeError(f"{cls.__name__}.{name}{inspect.signature(implementation)} does not match the "
                                f"contract Backend.{name}{inspect.signature(contract)}")
            text, note = inspect.getdoc(contract) or "", inspect.getdoc(implementation) or ""
            implementation.__doc__ = f"{text}\n\n{note}" if note and note != text else text

    def __repr__(self) -> str:
        return f"<lrlab backend {self.framework!r}>"

    def functions(self) -> tuple:
        """Return the bound methods named in :data:`FUNCTIONS`, in that order (a backend module's functions)."""
        return tuple(getattr(self, name) for name in FUNCTIONS)

    # ------------------------------------------------------------------------------------
    # framework calls: each backend implements these
    # ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def descend(self, loss, w0, lr, steps) -> pd.DataFrame:
        """Return one row per update of plain gradient descent on one float32 weight (the framework's SGD).

        Update k is ``w ← w − η_k·dL/dw`` (E000-1, E004-1), made by the
        framework's native SGD optimizer with ``η`` a float or an lrlab schedule
        (E004-4). ``loss`` is a function of the weight written with the
        framework's operations. Columns (:data:`lrlab.training.DESCEND_COLUMNS`):
        ``step`` (k), ``lr_used`` (η_k, the LR update k used), ``lr_next`` (the
        LR the optimizer reports after the update, i.e. η_{k+1}: what TF1
        printed), ``loss`` (L at the new weight) and ``w`` (the new weight), all
        float32.
        """

    @abc.abstractmethod
    def mlp(self, layers, activation="relu", output_activation="sigmoid", *, seed=0, weights=None,
            dtype="float64"):
        """Return an MLP of the framework whose initial weights were drawn in numpy (E001-1/2/3).

        ``layers`` lists widths from input to output: ``mlp((20, 64, 32, 1))`` is
        the seed-001 network, dense 20→64 (``activation``), 64→32
        (``activation``), 32→1, then ``output_activation``. The output
        activation is its own layer so that ``fit`` computes the cross-entropies
        from the logits. The weights are :func:`lrlab.training.initial_weights`
        (``seed``) or the given ``[(kernel (in, out), bias), ...]``: the same
        numbers in both frameworks. ``dtype`` is ``"float64"`` (lrlab's default,
        see :class:`lrlab.training.MLPSpec`) or ``"float32"``.
        """

    @abc.abstractmethod
    def cnn(self, channels=(25, 25, 25), kernel_size=(5, 3, 3), classes=10, activation="relu",
            output_activation="softmax", *, length=40, stride=2, padding=1, seed=0, weights=None, dtype="float64"):
        """Return a small 1-D CNN of the framework whose initial weights were drawn in numpy (MNIST-1D).

        ``cnn()`` is the CNN of Greydanus & Kobak's MNIST-1D paper: a row of
        ``length`` samples is one channel; convolutions of ``channels[j]``
        filters of width ``kernel_size[j]`` (one width for all, or one each),
        ``stride`` and ``padding`` zeros at both ends, each followed by
        ``activation``; the last feature map flattened position-major into a
        dense layer to ``classes`` logits; then ``output_activation`` as its own
        layer, as in ``mlp``. The weights are
        :func:`lrlab.training.initial_weights` of the
        :class:`lrlab.training.CNNSpec` (``seed``) or the given ``[(kernel,
        bias), ...]`` in lrlab's layout (conv kernels ``(width, in, out)``, the
        dense kernel ``(flat, classes)``): the same numbers in both frameworks.
        ``fit``, ``lr_range_test``, ``evaluate``, ``predict`` and ``fit_many``
        take it as they take an MLP.
        """

    @abc.abstractmethod
    def weights(self, model) -> list:
        """Return the model's weights as numpy ``[(kernel (in, out), bias), ...]`` (copies)."""

    @abc.abstractmethod
    def set_weights(self, model, weights) -> None:
        """Load numpy ``[(kernel (in, out), bias), ...]`` into the model (checked against its layers)."""

    @abc.abstractmethod
    def predict(self, model, x) -> np.ndarray:
        """Return the model's outputs (after its output activation) for the rows of ``x``, as numpy."""

    @abc.abstractmethod
    def load_model(self, path):
        """Return the model saved at ``path`` by ``ModelCheckpoint`` (the framework's native format)."""

    @abc.abstractmethod
    def device_name(self, device=None) -> str:
        """Return the framework's name of the device ``fit_many`` runs on for ``device``.

        ``None`` picks the GPU when the framework sees one; ``"cpu"``, ``"gpu"``
        and ``"cuda"`` (another name for the GPU) ask for one
        (:func:`lrlab.many.select_device`: asking for a GPU that is not there is
        an error).
        """

    @abc.abstractmethod
    def _spec(self, model) -> training.MLPSpec:
        """Return the :class:`~lrlab.training.MLPSpec` of a model made by :meth:`mlp` (a
        :class:`~lrlab.training.CNNSpec` for :meth:`cnn`; else ParameterError)."""

    @abc.abstractmethod
    def _tensor(self, array):
        """Return the numpy ``array`` as the framework's tensor (validation data, evaluation data)."""

    @abc.abstractmethod
    def _evaluator(self, model, loss: str, metric):
        """Return ``f(x, y) -> (loss, metric)`` over the whole of tensors ``x`` and ``y``, without gradients."""

    @abc.abstractmethod
    def _trainer(self, model, spec: training.MLPSpec, optimizer_spec: training.OptimizerSpec,
                 plan: training.FitPlan) -> training.TrainerBase:
        """Return the trainer of ``fit`` (see :func:`lrlab.training.run_epochs` for what it must offer)."""

    @abc.abstractmethod
    def _many_trainer(self, plan: many.ManyPlan, device: str):
        """Return the trainer of ``fit_many`` on ``device`` (see :func:`lrlab.many.run_many`)."""

    # ------------------------------------------------------------------------------------
    # the same in both frameworks
    # ------------------------------------------------------------------------------------
    def optimizer(self, name, lr, **kw) -> training.OptimizerSpec:
        """Return the optimizer ``name`` with learning rate ``lr`` (a float or an lrlab schedule).

        ``name`` is ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``,
        ``"adamw"`` or ``"rmsprop"``; ``kw`` sets its hyperparameters, whose
        defaults are lrlab's and the same in both backends
        (:data:`lrlab.training.OPTIMIZERS`). ``fit`` builds the framework's
        native optimizer from it; the table of each backend module (:mod:`lrlab.tf`,
        :mod:`lrlab.torch`) says how each maps onto the native class and where
        the two frameworks' formulas differ.
        """
        return training.check_optimizer(name, lr, **kw)

    def evaluate(self, model, data, *, loss, metric=None) -> dict:
        """Return ``{"loss": ..., metric: ...}`` of the model on ``data = (x, y)`` (e.g. the test set)."""
        spec = self._spec(model)
        loss, metric = training.check_loss_metric(spec, loss, metric)
        x, y = training.check_data(data, "data", spec)
        value, measure = self._evaluator(model, loss, metric)(self._tensor(x), self._tensor(y))
        return {"loss": float(value), **({metric: float(measure)} if metric else {})}

    def _with_tensors(self, plan: training.FitPlan) -> training.FitPlan:
        """Return ``plan`` with its validation arrays as the framework's tensors (made once, not every epoch)."""
        if plan.val is None:
            return plan
        return dataclasses.replace(plan, val=tuple(self._tensor(a) for a in plan.val))

    def fit(self, model, train, val=None, *, optimizer, loss, epochs, batch_size=32, schedule_unit="step",
            callbacks=(), seed=0, metric=None, shuffle=True):
        """Return the training history (one row per epoch) of ``model`` trained on ``train = (x, y)``.

        Each epoch visits the rows in the order of one seeded numpy permutation
        (:func:`lrlab.training.epoch_orders`, the same in both frameworks; with
        ``shuffle=False`` the stored order), cut into batches of ``batch_size``
        (``None``: full batch; a last partial batch is kept, as Keras does).
        ``optimizer`` comes from ``optimizer(name, lr, ...)``; a schedule counts
        optimizer updates (``schedule_unit="step"``, Keras's convention: torch's
        scheduler is stepped after every ``optimizer.step()``) or epochs
        (``"epoch"``: every update of epoch e uses ``s(e)``, as torch's
        per-epoch ``scheduler.step()``). ``loss`` is ``"binary_crossentropy"``,
        ``"categorical_crossentropy"`` or ``"mse"``; ``metric`` ``"accuracy"``
        or ``"mae"`` (default: accuracy for the cross-entropies). ``callbacks``:
        ``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``
        (:mod:`lrlab.callbacks`). How each framework runs an epoch is in the
        docstring of :mod:`lrlab.tf` and :mod:`lrlab.torch`.

        Columns: ``epoch``, ``lr`` (used by the epoch's last update), ``loss`` and
        the metric (means over the epoch's batches, each before its update),
        ``val_loss`` and ``val_<metric>`` (after the epoch; NaN without ``val``),
        ``status`` (``"ok"``, or ``"diverged"`` on the epoch whose loss was NaN,
        infinite or above 10x the initial loss — lrlab's one rule,
        :func:`lrlab.training.is_diverged` — which ends the run). See
        :func:`lrlab.training.run_epochs`.
        """
        spec = self._spec(model)
        plan = training.check_fit(spec, optimizer, train, val, loss=loss, metric=metric, epochs=epochs,
                                  batch_size=batch_size, schedule_unit=schedule_unit, callbacks=callbacks,
                                  seed=seed, shuffle=shuffle)
        plan = self._with_tensors(plan)
        return training.run_epochs(self._trainer(model, spec, optimizer, plan), plan)

    def lr_range_test(self, model, train, val=None, *, optimizer="sgd", loss, start_lr=1e-7, end_lr=10.0,
                      num_it=100, mode="exp", unit="step", batch_size=32, beta=0.98, stop_factor=4.0, seed=0,
                      metric=None):
        """Return the LR range test of ``model`` on ``train`` (a :class:`lrlab.range_test.RangeTest`); weights restored.

        The LR rises from ``start_lr`` to ``end_lr`` over ``num_it`` updates
        (``unit="step"``, E002-1) or epochs (``unit="epoch"``, E004-2),
        exponentially (``mode="exp"``) or linearly (C001-2), as a native
        schedule of the ``optimizer`` (a name, or ``optimizer(name, lr, ...)``
        whose LR the ramp replaces); the loss of every iteration is smoothed
        (``beta``) and the test stops early when the smoothed loss exceeds
        ``stop_factor`` times its minimum or is not finite. Batches follow the
        same seeded order in both frameworks. Defaults are fastai ``lr_find``'s;
        :mod:`lrlab.range_test` holds the rules, the suggestions and where they
        differ from fastai.
        """
        spec = self._spec(model)
        fit_plan, plan = range_test.prepare(spec, train, val, optimizer=optimizer, loss=loss, metric=metric,
                                            start_lr=start_lr, end_lr=end_lr, num_it=num_it, mode=mode, unit=unit,
                                            batch_size=batch_size, beta=beta, stop_factor=stop_factor, seed=seed)
        fit_plan = self._with_tensors(fit_plan)
        return range_test.run(self._trainer(model, spec, plan.optimizer, fit_plan), fit_plan, plan)

    def _start(self, model):
        """Return ``(spec, initial weights or None)`` of a model made by :meth:`mlp`, or of an MLPSpec."""
        if isinstance(model, training.MLPSpec):
            return training.check_mlp(model.sizes, model.activation, model.output_activation, model.dtype), None
        if isinstance(model, training.CNNSpec):
            return training.check_cnn(model.channels, model.kernel_size, model.classes, model.activation,
                                      model.output_activation, length=model.length, stride=model.stride,
                                      padding=model.padding, dtype=model.dtype), None
        return self._spec(model), self.weights(model)

    def fit_many(self, model, train, val=None, *, optimizer, loss, epochs, batch_size=32, configs,
                 schedule_unit="step", seed=0, metric=None, device=None):
        """Return the history of M models trained together, one row per model and epoch (E000-5, C000-1).

        ``model`` is a model made by ``mlp`` or ``cnn`` (it stays untouched; every
        configuration without ``init_seed`` starts from its weights) or an
        :class:`lrlab.training.MLPSpec` or :class:`~lrlab.training.CNNSpec` (those
        start from ``initial_weights(spec,
        0)``). ``configs`` lists one dict per model (or a DataFrame, one row per
        model; :func:`lrlab.many.grid` makes a grid) setting any of
        :data:`lrlab.many.CONFIG_KEYS`: ``lr`` (a float or an lrlab schedule), the
        optimizer's hyperparameters and ``init_seed``; what a configuration leaves
        out comes from ``optimizer`` — a name (``"sgd"``, ``"momentum"``,
        ``"nesterov"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``) with lrlab's
        defaults, or ``optimizer(name, lr, ...)``. The other arguments are
        ``fit``'s, shared by all models: the same data, batches and batch order
        (``seed``), epochs and schedule unit. ``device``: ``None`` (the GPU if
        the framework sees one), ``"cpu"`` or ``"gpu"`` (``device_name``).

        Model m's rows equal what ``fit`` returns for its configuration alone, up to
        float rounding; columns: ``model``, one per configuration key other than
        ``lr`` (and ``schedule``, the repr of each schedule, when there is one),
        then ``fit``'s: ``epoch``, ``lr``, ``loss``, the metric, ``val_loss``,
        ``val_<metric>``, ``status``. ``lr`` is the float64 reference LR of the
        epoch's last update (for a float LR, the LR itself). A model whose loss
        diverges (:func:`lrlab.training.is_diverged`: NaN, infinite or above 10x its
        initial loss) has ``status == "diverged"`` on that epoch and no later rows;
        the others train on. ``attrs["configs"]`` holds the models' configurations,
        ``attrs["initial_loss"]`` their initial losses.

        Two models, two LRs, two epochs (the same numbers in ``lrlab.tf``)::

            >>> import numpy as np
            >>> from lrlab import torch as lpt, training
            >>> x = np.random.default_rng(0).random((64, 4))
            >>> y = (x.sum(axis=1, keepdims=True) > 2).astype(float)
            >>> history = lpt.fit_many(training.MLPSpec((4, 8, 1)), (x, y), optimizer="sgd",
            ...                        loss="binary_crossentropy", epochs=2, batch_size=16,
            ...                        configs=[{"lr": 0.1}, {"lr": 1.0}])
            >>> print(history[["model", "epoch", "lr", "loss", "accuracy", "status"]].round(3).to_string(index=False))
             model  epoch  lr  loss  accuracy status
                 0      0 0.1 0.671     0.641     ok
                 0      1 0.1 0.651     0.656     ok
                 1      0 1.0 0.680     0.656     ok
                 1      1 1.0 0.585     0.703     ok
        """
        spec, weights = self._start(model)
        name = self.device_name(device)
        plan = many.check_many(spec, weights, optimizer, train, val, loss=loss, metric=metric, epochs=epochs,
                               batch_size=batch_size, configs=configs, schedule_unit=schedule_unit, seed=seed)
        return many.run_many(self._many_trainer(plan, name), plan)
