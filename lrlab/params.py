"""Validation of notebook parameters and function arguments.

Every notebook's first code cell checks its papermill parameters with these
helpers. A bad value raises :class:`ParameterError` (a ``ValueError``) whose
message is one line naming the parameter, the value and what is allowed::

    ParameterError: initial_lr = -0.1 is not allowed; expected a number > 0

Inside IPython the error is shown as that one line, without a traceback, so a
papermill rerun with a bad ``-p`` value stops with a readable reason.

A notebook validates its whole parameters cell with **one call**,
:func:`validate`, one rule per parameter (:class:`Int`, :class:`Float`,
:class:`Bool`, :class:`Choice`, :class:`Str`, :class:`Frameworks` and the
comma-separated lists :class:`IntList`, :class:`FloatList`,
:class:`ChoiceList`)::

    P = lrlab.validate(globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0),
                       batch_sizes=lrlab.IntList(1, 10_000, sort=True),
                       lr_min_exp=lrlab.Float(-8, 2), lr_max_exp=lrlab.Float("lr_min_exp", 2))
    FW, BATCHES = P.frameworks, P.batch_sizes

The single checks (``check_int`` and friends) remain for function arguments.
"""

from __future__ import annotations

import math
import numbers
import types

__all__ = [
    "Bool",
    "Choice",
    "ChoiceList",
    "FRAMEWORKS",
    "Float",
    "FloatList",
    "Frameworks",
    "Int",
    "IntList",
    "ParameterError",
    "Params",
    "Rule",
    "Str",
    "validate",
    "check_bool",
    "check_choice",
    "check_frameworks",
    "check_int",
    "check_number",
]

#: the frameworks a notebook can run, in the order the book shows them
FRAMEWORKS = ("tf", "torch")


class ParameterError(ValueError):
    """A parameter has a value outside what is allowed."""


def _fail(name: str, value, allowed: str):
    raise ParameterError(f"{name} = {value!r} is not allowed; expected {allowed}")


def _bounds_text(low, high, low_open, high_open) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


def check_number(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a float after checking it is a finite real number within bounds."""
    bounds = f" {_bounds_text(low, high, low_open, high_open)}" if (low, high) != (None, None) else ""
    allowed = "a finite number" + bounds
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        _fail(name, value, allowed)
    if low is not None and (value < low or (low_open and value == low)):
        _fail(name, value, allowed)
    if high is not None and (value > high or (high_open and value == high)):
        _fail(name, value, allowed)
    return float(value)


def check_int(name: str, value, *, low=None, high=None) -> int:
    """Return ``value`` as an int after checking it is a whole number within ``[low, high]``."""
    allowed = "a whole number" + (f" {_bounds_text(low, high, False, False)}" if (low, high) != (None, None) else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, value, allowed)
    if (low is not None and value < low) or (high is not None and value > high):
        _fail(name, value, allowed)
    return int(value)


def check_bool(name: str, value) -> bool:
    """Return ``value`` after checking it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        _fail(name, value, "True or False")
    return value


def check_choice(name: str, value, allowed) -> object:
    """Return ``value`` after checking it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        _fail(name, value, "one of " + ", ".join(repr(a) for a in allowed))
    return value


def check_frameworks(value, name: str = "frameworks") -> tuple[str, ...]:
    """Return the frameworks named by ``value`` as a tuple in book order.

    ``value`` is a comma-separated string (``"tf,torch"``, ``"torch"``), the
    form papermill's ``-p frameworks torch`` passes, or an iterable of names.
    """
    names = value.split(",") if isinstance(value, str) else list(value) if value is not None else []
    names = [str(n).strip() for n in names if str(n).strip()]
    allowed = "a comma-separated subset of 'tf', 'torch' (at least one)"
    if not names or any(n not in FRAMEWORKS for n in names):
        _fail(name, value, allowed)
    return tuple(f for f in FRAMEWORKS if f in names)


# ----------------------------------------------------------------------------------------
# one call for a whole parameters cell
# ----------------------------------------------------------------------------------------
class Params(types.SimpleNamespace):
    """The validated parameters, by attribute (``P.seed``) or by key (``P["seed"]``), in rule order."""

    def __getitem__(self, name):
        return getattr(self, name)

    def __contains__(self, name) -> bool:
        return name in vars(self)

    def as_dict(self) -> dict:
        return dict(vars(self))


def _resolve(bound, params: Params):
    """Return a bound's number: itself, the validated parameter it names, or ``bound(params)``."""
    if bound is None or isinstance(bound, numbers.Real):
        return bound
    if isinstance(bound, str):
        if bound not in params:
            raise TypeError(f"a bound refers to {bound!r}, which is not validated before it; "
                            "give its rule earlier in validate()")
        return params[bound]
    if callable(bound):
        return bound(params)
    raise TypeError(f"bound {bound!r} is not a number, a parameter name or a function of the parameters")


def _bound_text(bound, value) -> str:
    text = f"{value:d}" if isinstance(value, numbers.Integral) else f"{value:g}"
    return f"{text} ({bound})" if isinstance(bound, str) else text


class Rule:
    """What one parameter may be. ``parse(name, value, params)`` returns the parsed value or raises ParameterError.

    Bounds (``low``, ``high``) are numbers, the name of a parameter validated
    earlier in the same :func:`validate` call (``Float("lr_min_exp", 2)``), or a
    function of the parameters validated so far (``Int(1, lambda p: max(p.budgets))``).
    """

    def parse(self, name: str, value, params: Params):  # pragma: no cover - every rule has its own
        raise NotImplementedError

    def bounds(self, params: Params):
        """Return ``(low, high)`` with dependent bounds resolved against ``params``."""
        return _resolve(getattr(self, "low", None), params), _resolve(getattr(self, "high", None), params)

    def _range_text(self, params: Params) -> str:
        low, high = self.bounds(params)
        parts = []
        if low is not None:
            parts.append(f"{'>' if getattr(self, 'low_open', False) else '>='} {_bound_text(self.low, low)}")
        if high is not None:
            parts.append(f"{'<' if getattr(self, 'high_open', False) else '<='} {_bound_text(self.high, high)}")
        return (" " + " and ".join(parts)) if parts else ""

    def _in_range(self, x, params: Params) -> bool:
        low, high = self.bounds(params)
        if low is not None and (x < low or (getattr(self, "low_open", False) and x == low)):
            return False
        return high is None or not (x > high or (getattr(self, "high_open", False) and x == high))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Int(Rule):
    """A whole number (not a bool, not a float) within ``[low, high]``.

    >>> p = validate({"epochs": 10, "warmup": 2}, epochs=Int(1, 1000), warmup=Int(0, "epochs"))
    >>> p.epochs, p.warmup
    (10, 2)
    >>> validate({"epochs": 10, "warmup": 12}, epochs=Int(1, 1000), warmup=Int(0, "epochs"))
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: warmup = 12 is not allowed; expected a whole number >= 0 and <= 10 (epochs)
    >>> validate({"epochs": 2.5}, epochs=Int(1))
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: epochs = 2.5 is not allowed; expected a whole number >= 1
    """

    def __init__(self, low=None, high=None):
        self.low, self.high = low, high

    def allowed(self, params: Params) -> str:
        return "a whole number" + self._range_text(params)

    def parse(self, name, value, params):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not self._in_range(value, params):
            _fail(name, value, self.allowed(params))
        return int(value)


class Float(Rule):
    """A finite real number (an int is fine; not a bool, NaN or infinity) within the bounds.

    >>> validate({"lr": 0.1}, lr=Float(0, 10, low_open=True)).lr
    0.1
    >>> validate({"lr": float("nan")}, lr=Float(0, 10, low_open=True))
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: lr = nan is not allowed; expected a finite number > 0 and <= 10
    """

    def __init__(self, low=None, high=None, *, low_open=False, high_open=False):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def allowed(self, params: Params) -> str:
        return "a finite number" + self._range_text(params)

    def parse(self, name, value, params):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                or not self._in_range(value, params):
            _fail(name, value, self.allowed(params))
        return float(value)


class Bool(Rule):
    """``True`` or ``False``.

    >>> validate({"fast": "yes"}, fast=Bool())
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: fast = 'yes' is not allowed; expected True or False
    """

    def allowed(self, params: Params) -> str:
        return "True or False"

    def parse(self, name, value, params):
        if not isinstance(value, bool):
            _fail(name, value, self.allowed(params))
        return value


class Str(Rule):
    """Any non-empty string (a label, a path).

    >>> validate({"label": "run 1"}, label=Str()).label
    'run 1'
    """

    def allowed(self, params: Params) -> str:
        return "a non-empty string"

    def parse(self, name, value, params):
        if not isinstance(value, str) or not value.strip():
            _fail(name, value, self.allowed(params))
        return value


class Choice(Rule):
    """One of the given values.

    >>> validate({"optimizer": "adagrad"}, optimizer=Choice("sgd", "adam"))
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: optimizer = 'adagrad' is not allowed; expected one of 'sgd', 'adam'
    """

    def __init__(self, *choices):
        if not choices:
            raise TypeError("Choice() needs at least one allowed value")
        self.choices = choices

    def allowed(self, params: Params) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def parse(self, name, value, params):
        if isinstance(value, bool) != any(isinstance(c, bool) for c in self.choices) or value not in self.choices:
            _fail(name, value, self.allowed(params))
        return value


class _List(Rule):
    """A comma-separated list: a string ``"a,b,c"`` (what ``-p`` passes), a list or tuple, or one bare value."""

    what = "values"

    def __init__(self, *, sort=False, unique=True):
        self.sort, self.unique = sort, unique

    def allowed(self, params: Params) -> str:
        return (f"comma-separated {self.what}{self._item_text(params)}, at least one"
                + (", no repeats" if self.unique else ""))

    def _item_text(self, params: Params) -> str:
        return self._range_text(params)

    def _items(self, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, (numbers.Real, str)) and not isinstance(value, bool):
            return [value]  # papermill's -p turns "64" into the int 64
        return None

    def _item(self, item, params):
        """Return the parsed item, or None when it is not allowed."""
        raise NotImplementedError  # pragma: no cover

    def parse(self, name, value, params):
        items = self._items(value)
        if items is None or not items:
            _fail(name, value, self.allowed(params))
        parsed = []
        for item in items:
            got = self._item(item, params)
            if got is None:
                _fail(name, value, f"{self.allowed(params)} ({item!r} is not one)")
            if self.unique and got in parsed:
                _fail(name, value, f"{self.allowed(params)} ({got!r} is repeated)")
            parsed.append(got)
        return sorted(parsed) if self.sort else parsed


class IntList(_List):
    """Comma-separated whole numbers within ``[low, high]``; ``sort`` sorts them, ``unique`` forbids repeats.

    >>> validate({"batch_sizes": "64,4,16"}, batch_sizes=IntList(1, 10_000, sort=True)).batch_sizes
    [4, 16, 64]
    >>> validate({"batch_sizes": "4,x"}, batch_sizes=IntList(1, 10_000))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: batch_sizes = '4,x' is not allowed; expected comma-separated whole numbers >= 1
    and <= 10000, at least one, no repeats ('x' is not one)
    """

    what = "whole numbers"

    def __init__(self, low=None, high=None, *, sort=False, unique=True):
        super().__init__(sort=sort, unique=unique)
        self.low, self.high = low, high

    def _item(self, item, params):
        if isinstance(item, str):
            try:
                item = int(item.strip())
            except ValueError:
                return None
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or not self._in_range(item, params):
            return None
        return int(item)


class FloatList(_List):
    """Comma-separated finite numbers within the bounds; ``sort`` sorts them, ``unique`` forbids repeats.

    >>> validate({"lrs": "0.1, 1e-2"}, lrs=FloatList(0, 10, low_open=True, sort=True)).lrs
    [0.01, 0.1]
    >>> validate({"lrs": "0.1,inf"}, lrs=FloatList(0, 10, low_open=True))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: lrs = '0.1,inf' is not allowed; expected comma-separated finite numbers > 0 and
    <= 10, at least one, no repeats ('inf' is not one)
    >>> validate({"lrs": ""}, lrs=FloatList(0, 10, low_open=True))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: lrs = '' is not allowed; expected comma-separated finite numbers > 0 and <= 10,
    at least one, no repeats
    """

    what = "finite numbers"

    def __init__(self, low=None, high=None, *, low_open=False, high_open=False, sort=False, unique=True):
        super().__init__(sort=sort, unique=unique)
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def _item(self, item, params):
        if isinstance(item, str):
            try:
                item = float(item.strip())
            except ValueError:
                return None
        if isinstance(item, bool) or not isinstance(item, numbers.Real) or not math.isfinite(item) \
                or not self._in_range(item, params):
            return None
        return float(item)


class ChoiceList(_List):
    """Comma-separated names, each one of ``choices``, in the order given (no repeats unless ``unique=False``).

    >>> validate({"optimizers": "sgd,adam"}, optimizers=ChoiceList("sgd", "momentum", "adam")).optimizers
    ['sgd', 'adam']
    >>> validate({"optimizers": "sgd,sgd"}, optimizers=ChoiceList("sgd", "adam"))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: optimizers = 'sgd,sgd' is not allowed; expected comma-separated names among
    'sgd', 'adam', at least one, no repeats ('sgd' is repeated)
    """

    what = "names"

    def __init__(self, *choices, sort=False, unique=True):
        if not choices:
            raise TypeError("ChoiceList() needs at least one allowed value")
        super().__init__(sort=sort, unique=unique)
        self.choices = choices

    def _item_text(self, params):
        return " among " + ", ".join(repr(c) for c in self.choices)

    def _items(self, value):
        return None if isinstance(value, numbers.Number) else super()._items(value)

    def _item(self, item, params):
        return item if isinstance(item, str) and item in self.choices else None


class Frameworks(ChoiceList):
    """The frameworks to run: a comma-separated subset of ``'tf', 'torch'``, returned as a tuple in book order.

    >>> validate({"frameworks": "torch,tf"}, frameworks=Frameworks()).frameworks
    ('tf', 'torch')
    >>> validate({"frameworks": "jax"}, frameworks=Frameworks())  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: frameworks = 'jax' is not allowed; expected comma-separated names among 'tf',
    'torch', at least one, no repeats ('jax' is not one)
    """

    def __init__(self):
        super().__init__(*FRAMEWORKS)

    def parse(self, name, value, params):
        names = super().parse(name, value, params)
        return tuple(f for f in FRAMEWORKS if f in names)


#: names IPython puts in a notebook's globals that are not parameters
_IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
#: the types a papermill parameter can have (what -p, -r and -y give)
_PARAMETER_TYPES = (bool, int, float, complex, str, bytes, type(None), list, tuple, dict)
#: set in the namespace after a first validation; an interactive rerun then skips the extra-name check
_VALIDATED = "__lrlab_validated__"


def validate(namespace, /, **rules: Rule) -> Params:
    """Return the :class:`Params` of a notebook's whole parameters cell, every value checked by its rule.

    ``namespace`` is the notebook's ``globals()`` (any mapping of names to
    values); each keyword names a parameter and gives its :class:`Rule`. The
    rules run in the order given, so a bound may name a parameter validated
    before it (``Float("lr_min_exp", 2)``) or be a function of those
    (``Int(1, lambda p: max(p.budgets))``). Scalars come back as they are (an
    ``int`` given to a :class:`Float` as a float), lists parsed from their
    comma-separated strings.

    The first value that is not allowed stops the notebook with one line::

        ParameterError: NAME = VALUE is not allowed; expected WHAT IS ALLOWED

    That covers a wrong type, a value out of range, NaN or infinity, an empty
    list, a bad element of a list, an unknown name in a list, a repeat in a
    list that forbids them, a rule for a parameter the namespace lacks, and a
    value in the namespace that has no rule: a public global of a parameter's
    type (number, string, bool, None, list, tuple, dict) defined before the
    call — the way a misspelt ``-p`` name arrives — except UPPER_CASE names,
    which are imported constants (parameters are lower case). (That last check runs on the
    first call in a kernel, the way papermill and nbval run a notebook; an
    interactive rerun of the cell, whose globals now hold the notebook's later
    results, skips it.)

    >>> P = validate({"seed": 0, "lrs": "0.3,0.1", "optimizer": "sgd"}, seed=Int(0),
    ...              lrs=FloatList(0, 10, low_open=True, sort=True), optimizer=Choice("sgd", "adam"))
    >>> P.seed, P.lrs, P["optimizer"]
    (0, [0.1, 0.3], 'sgd')
    >>> validate({"seed": 0, "sed": 1}, seed=Int(0))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: sed = 1 is not allowed; expected no parameter of that name (the notebook's
    parameters are: seed)
    >>> validate({}, seed=Int(0))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lrlab.params.ParameterError: seed = <not set> is not allowed; expected a value (a rule is given for seed,
    but the notebook does not set it)
    """
    params = Params()
    for name, rule in rules.items():
        if not isinstance(rule, Rule):
            raise TypeError(f"the rule of {name} is {rule!r}; expected an lrlab rule such as Int(), FloatList()")
        if name not in namespace:
            raise ParameterError(f"{name} = <not set> is not allowed; expected a value (a rule is given for {name}, "
                                 "but the notebook does not set it)")
        setattr(params, name, rule.parse(name, namespace[name], params))
    if not namespace.get(_VALIDATED, False):
        for name, value in namespace.items():
            if name in rules or name.startswith("_") or name.isupper() or name in _IPYTHON_NAMES \
                    or not isinstance(value, _PARAMETER_TYPES):
                continue
            _fail(name, value, f"no parameter of that name (the notebook's parameters are: {', '.join(rules)})")
    if isinstance(namespace, dict):
        namespace[_VALIDATED] = True
    return params


def _show_one_line(shell, etype, evalue, tb, tb_offset=None):
    """IPython handler: show a ParameterError as its one-line message."""
    line = f"{etype.__name__}: {evalue}"
    shell._showtraceback(etype, evalue, [line])
    return [line]


def _install_ipython_handler() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is part of the book's environment
        return
    shell = get_ipython()
    if shell is not None and ParameterError not in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((ParameterError,), _show_one_line)


_install_ipython_handler()
