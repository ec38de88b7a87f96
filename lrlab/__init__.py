"""lrlab: the helper package of the learning-rate experiment book.

``import lrlab`` is cheap and imports neither TensorFlow nor PyTorch. The two
training backends are imported explicitly, one name for one framework::

    from lrlab import tf as ltf        # TensorFlow 2 / Keras 3
    from lrlab import torch as lpt     # PyTorch

and mirror each other name for name.
"""

from lrlab.determinism import seed_everything
from lrlab.params import (
    Bool,
    Choice,
    ChoiceList,
    Float,
    FloatList,
    Frameworks,
    Int,
    IntList,
    ParameterError,
    Params,
    Str,
    check_bool,
    check_choice,
    check_frameworks,
    check_int,
    check_number,
    validate,
)
from lrlab.records import collect, record

__version__ = "0.1.0"


def load_backends(frameworks) -> dict:
    """Return ``{name: backend module}`` for the requested frameworks, importing only those.

    ``load_backends("torch")`` imports :mod:`lrlab.torch` and never TensorFlow.
    """
    import importlib

    return {name: importlib.import_module(f"lrlab.{name}") for name in check_frameworks(frameworks)}


__all__ = [
    "Bool",
    "Choice",
    "ChoiceList",
    "Float",
    "FloatList",
    "Frameworks",
    "Int",
    "IntList",
    "ParameterError",
    "Params",
    "Str",
    "__version__",
    "check_bool",
    "check_choice",
    "check_frameworks",
    "check_int",
    "check_number",
    "collect",
    "load_backends",
    "record",
    "seed_everything",
    "validate",
]
