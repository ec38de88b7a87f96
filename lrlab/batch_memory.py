"""Bytes one training step keeps for its backward pass, per batch size, in each framework (C000-3b).

A CPU has no framework counter of peak memory that prints the same on every
machine (``tf.config.experimental.get_memory_info`` works on GPUs only; the
allocators of torch and the C library reuse and pad blocks), so this module
counts bytes deterministically, from the tensors the framework itself keeps:

* **torch**: every tensor autograd saves for the backward pass of one step
  (``torch.autograd.graph.saved_tensors_hooks``), counted once per storage;
  parameters saved by an op are counted with the parameters, not here;
* **TensorFlow**: the graph of one step (``tf.function`` of the loss and
  ``GradientTape.gradient``); a forward tensor counts when an op of the
  gradient computation reads it (variables read for the step count with the
  parameters).

Both count the step of the book's MLP on the categorical cross-entropy from the
logits, as ``fit`` trains it. The rest of a step's memory is the parameters,
their gradients and the optimizer's slots: fixed, whatever the batch.
:func:`step_table` puts the two together per framework and batch size,
:func:`bytes_per_example` reads the growth per example, and :func:`judge_memory`
gives C000-3b's verdict (largest batch over smallest).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import part_verdicts

__all__ = ["bytes_per_example", "judge_memory", "parameter_bytes", "saved_bytes", "step_table"]


def parameter_bytes(sizes, itemsize: int = 8) -> int:
    """Return the bytes of an MLP's kernels and biases (``sizes`` the layer widths)."""
    return itemsize * sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def _torch_saved(sizes, batch: int) -> int:
    import torch
    import torch.nn.functional as F

    from lrlab import torch as lt

    model = lt.mlp(tuple(sizes), "relu", "softmax", seed=0)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            kept[ptr] = t.untyped_storage().nbytes()
        return t

    x = torch.zeros((batch, sizes[0]), dtype=torch.float64)
    y = torch.zeros((batch, sizes[-1]), dtype=torch.float64)
    y[:, 0] = 1.0
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model[:-1](x), y)
    loss.backward()
    return int(sum(kept.values()))


def _tf_saved(sizes, batch: int) -> int:
    import tensorflow as tf

    from lrlab import tf as ltf

    model = ltf.mlp(tuple(sizes), "relu", "softmax", seed=0)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            z = x
            for layer in model.layers[:-1]:
                z = layer(z)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y, z))
        return tape.gradient(loss, model.trainable_variables)

    graph = step.get_concrete_function(tf.TensorSpec((batch, sizes[0]), tf.float64),
                                       tf.TensorSpec((batch, sizes[-1]), tf.float64)).graph
    total = 0
    for op in graph.get_operations():
        if op.name.startswith("gradient_tape") or op.type == "ReadVariableOp":
            continue
        for t in op.outputs:
            if any(c.name.startswith("gradient_tape") for c in t.consumers()):
                total += int(np.prod(t.shape.as_list())) * t.dtype.size
    return total


def saved_bytes(framework: str, sizes, batch: int) -> int:
    """Return the bytes of the non-parameter tensors one training step of the MLP ``sizes`` keeps for backward."""
    if framework == "torch":
        return _torch_saved(sizes, batch)
    if framework == "tf":
        return _tf_saved(sizes, batch)
    from lrlab.params import ParameterError
    raise ParameterError(f"framework = {framework!r} is not allowed; expected 'tf' or 'torch'")


def step_table(frameworks, sizes, batches) -> pd.DataFrame:
    """Return the bytes one plain-SGD step of the MLP ``sizes`` holds, per framework and batch size (float64).

    Columns: ``framework``, ``batch``, ``kept for backward`` (:func:`saved_bytes`),
    ``parameters + gradients`` (twice :func:`parameter_bytes`: plain SGD keeps
    no other state), ``step total`` (their sum) and ``x smallest batch`` (the
    step total over that of the framework's first batch size in ``batches``).
    """
    fixed = 2 * parameter_bytes(sizes)
    memory = pd.DataFrame([{"framework": name, "batch": b, "kept for backward": saved_bytes(name, sizes, b)}
                           for name in frameworks for b in batches])
    memory["parameters + gradients"] = fixed
    memory["step total"] = memory["kept for backward"] + fixed
    memory["x smallest batch"] = memory["step total"] / memory.groupby("framework")["step total"].transform("first")
    return memory


def bytes_per_example(memory: pd.DataFrame) -> dict:
    """Return ``{framework: bytes kept per example}``: the least-squares slope of kept bytes over batch size.

    >>> table = pd.DataFrame({"framework": "torch", "batch": [4, 16], "kept for backward": [3712, 14848]})
    >>> {name: round(slope) for name, slope in bytes_per_example(table).items()}
    {'torch': 928}
    """
    return {name: float(np.polyfit(part.batch, part["kept for backward"], 1)[0])
            for name, part in memory.groupby("framework")}


def judge_memory(framework: str, memory: pd.DataFrame, threshold: float, *, rule: str, scope: str):
    """Return (and record) C000-3b's verdict: a step's bytes at the largest batch over those at the smallest.

    ``memory`` is :func:`step_table`'s; the effect is an exact count (no seed
    noise), held when it is at least ``threshold``.
    """
    mine = memory[memory.framework == framework]
    ratio = float(mine["x smallest batch"].iloc[-1])
    slope = bytes_per_example(mine)[framework]
    return part_verdicts.judge(
        "C000-3b", framework, {"": (ratio, None)}, threshold, rule=rule, seeds=None, scope=scope,
        evidence=f"{framework}: one SGD step holds {int(mine['step total'].iloc[0])} bytes at batch "
                 f"{mine.batch.iloc[0]} and {int(mine['step total'].iloc[-1])} at batch {mine.batch.iloc[-1]} "
                 f"(x{ratio:.1f}); {slope:.0f} bytes kept per example, counted from the tensors the framework keeps")
