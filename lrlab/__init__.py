"""lrlab: the helper package of the learning-rate experiment book.

``import lrlab`` is cheap and imports neither TensorFlow nor PyTorch. The two
training backends are imported explicitly, one name for one framework::

    from lrlab import tf as ltf        # TensorFlow 2 / Keras 3
    from lrlab import torch as lpt     # PyTorch

and mirror each other name for name.
"""

from lrlab.determinism import seed_everything
from lrlab.params import (
    ParameterError,
    check_choice,
    check_frameworks,
    check_int,
    check_number,
    check_bool,
)
from lrlab.records import collect, record

__version__ = "0.1.0"

__all__ = [
    "ParameterError",
    "__version__",
    "check_bool",
    "check_choice",
    "check_frameworks",
    "check_int",
    "check_number",
    "collect",
    "record",
    "seed_everything",
]
