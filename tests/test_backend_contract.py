"""The backend contract as code: lrlab.tf and lrlab.torch implement lrlab.backend.Backend, name for name."""

from __future__ import annotations

import inspect

import pytest

import lrlab
from lrlab import callbacks
from lrlab.backend import FUNCTIONS, Backend

BACKENDS = ("tf", "torch")


@pytest.fixture(scope="module", params=BACKENDS)
def module(request):
    return lrlab.load_backends(request.param)[request.param]


def _contract_signature(name):
    """Return the contract's signature of ``name`` without ``self`` (what a bound method shows)."""
    signature = inspect.signature(getattr(Backend, name))
    return signature.replace(parameters=list(signature.parameters.values())[1:])


def test_each_backend_is_a_backend_and_exports_the_contract(module):
    assert isinstance(module.BACKEND, Backend) and module.BACKEND.framework == module.FRAMEWORK
    assert not inspect.isabstract(type(module.BACKEND))
    assert set(FUNCTIONS) <= set(module.__all__)
    for name in FUNCTIONS:
        function = getattr(module, name)
        # the module function is the backend's bound method of that very name (the tuple unpacking kept its order)
        assert function.__self__ is module.BACKEND and function.__func__.__name__ == name, name
        assert inspect.signature(function) == _contract_signature(name), name
        assert inspect.getdoc(function).startswith(inspect.getdoc(getattr(Backend, name))), name
    for name in ("EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau"):
        assert getattr(module, name) is getattr(callbacks, name)


def test_both_backends_have_identical_signatures_and_shared_docstrings():
    tf, torch = lrlab.load_backends("tf,torch").values()
    assert tf.__all__ == torch.__all__
    for name in FUNCTIONS:
        a, b = getattr(tf, name), getattr(torch, name)
        assert inspect.signature(a) == inspect.signature(b), name
        shared = inspect.getdoc(getattr(Backend, name))
        assert inspect.getdoc(a).startswith(shared) and inspect.getdoc(b).startswith(shared), name
    # what both frameworks run the same way is one function, not two copies
    for name in ("optimizer", "evaluate", "fit", "lr_range_test", "fit_many"):
        assert getattr(tf, name).__func__ is getattr(torch, name).__func__ is getattr(Backend, name), name


def test_a_backend_with_another_signature_is_refused():
    with pytest.raises(TypeError, match=r"Odd.fit\(self, model, train\) does not match the contract Backend.fit"):
        class Odd(Backend):  # noqa: F841 - defining it is the test
            def fit(self, model, train):
                return None


def test_a_backend_that_leaves_a_function_out_cannot_be_made():
    class Partial(Backend):
        framework = "partial"

        def mlp(self, layers, activation="relu", output_activation="sigmoid", *, seed=0, weights=None,
                dtype="float64"):
            """Partial: no model."""

    assert inspect.isabstract(Partial)
    with pytest.raises(TypeError, match="abstract"):
        Partial()
    assert Partial.mlp.__doc__.endswith("Partial: no model.")
    assert Partial.mlp.__doc__.startswith(inspect.getdoc(Backend.mlp))
