"""Seeding and deterministic settings for numpy, TensorFlow and PyTorch.

The book's stored outputs are checked by strict nbval on machines that did not
make them, so every run must print the same numbers again. Three things make
that so: every generator is seeded, the frameworks use deterministic kernels,
and each framework runs its arithmetic on a fixed number of threads (one by
default: reductions split over a different number of threads add up in a
different order, and a 2-core machine running two notebooks at once gains
nothing from more).

Nothing here imports a framework the caller did not ask for.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

__all__ = ["configure_tensorflow", "configure_torch", "seed_everything"]

#: environment read by TensorFlow at import time: silence its C++ log (strict
#: nbval compares stderr too) and keep the standard, oneDNN-free kernels whose
#: results do not depend on the CPU's instruction set. Set whatever the caller
#: exported, so that the outputs do not depend on it.
TF_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "KERAS_BACKEND": "tensorflow",
}

_configured: dict[str, int] = {}


def configure_tensorflow(threads: int = 1):
    """Return the ``tensorflow`` module, imported quietly and set up for determinism.

    Sets :data:`TF_ENVIRONMENT` before the first import, enables op determinism
    and fixes the intra- and inter-op thread pools to ``threads``. Safe to call
    again; the thread count can only be set before TensorFlow's runtime starts.
    """
    for key, value in TF_ENVIRONMENT.items():  # set, not defaulted: a caller's choice must not change outputs
        os.environ[key] = value
    import tensorflow as tf

    if "tf" not in _configured:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # the runtime already started: keep its pools
            pass
        tf.config.experimental.enable_op_determinism()
        tf.get_logger().setLevel("ERROR")
        _configured["tf"] = threads
    return tf


def configure_torch(threads: int = 1):
    """Return the ``torch`` module set up for determinism on ``threads`` threads."""
    import torch

    if "torch" not in _configured:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(True)
        _configured["torch"] = threads
    return torch


def seed_everything(seed: int, frameworks=None) -> int:
    """Seed Python, numpy and the requested frameworks; return ``seed``.

    ``frameworks`` is an iterable of ``"tf"`` / ``"torch"``; ``None`` means the
    ones already imported, so that ``lrlab.seed_everything(0)`` never pulls in
    a framework the reader did not ask for.
    """
    from lrlab.params import check_int

    check_int("seed", seed, low=0, high=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    if frameworks is None:
        frameworks = [name for name, module in (("tf", "tensorflow"), ("torch", "torch"))
                      if module in sys.modules]
    for name in frameworks:
        if name == "tf":
            tf = configure_tensorflow()
            tf.keras.utils.set_random_seed(seed)
        elif name == "torch":
            torch = configure_torch()
            torch.manual_seed(seed)
        else:
            from lrlab.params import ParameterError

            raise ParameterError(f"frameworks: {name!r} is not a framework; allowed: 'tf', 'torch'")
    return seed
