"""lrlab.validate: one call checks a notebook's whole parameters cell; every chapter uses it.

Unit tests of each rule and each kind of bad value, then, for every chapter, its
parameters cell and its validation cell (up to the ``lrlab.validate`` call) taken from
the jupytext twin and executed with bad values of every kind that applies to its
parameters: each must stop with one ``ParameterError`` line that names the parameter.
Nothing here imports TensorFlow or PyTorch or trains anything.
"""

from __future__ import annotations

import ast
import doctest
import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lrlab
from lrlab import params as lp
from lrlab.params import ParameterError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p for p in ROOT.glob("book/[0-9][0-9]-*/*.py"))
os.environ.setdefault("MPLBACKEND", "Agg")


def fails(namespace, name, **rules):
    """Return the one-line message of the ParameterError that ``validate`` raises; check it names ``name``."""
    with pytest.raises(ParameterError) as info:
        lrlab.validate(namespace, **rules)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{name} = ") and " is not allowed; expected " in message, \
        message
    return message


# ----------------------------------------------------------------------------------------
# the API
# ----------------------------------------------------------------------------------------
def test_doctests():
    assert doctest.testmod(lp).failed == 0


def test_good_values_are_parsed():
    P = lrlab.validate({"frameworks": "torch", "seed": 3, "lr": 1, "lrs": "0.3, 0.1,", "sizes": "64,4",
                        "opts": "adam,sgd", "fast": False, "label": "x", "opt": "sgd"},
                       frameworks=lrlab.Frameworks(), seed=lrlab.Int(0), lr=lrlab.Float(0, low_open=True),
                       lrs=lrlab.FloatList(0, 10, low_open=True, sort=True), sizes=lrlab.IntList(1),
                       opts=lrlab.ChoiceList("sgd", "adam"), fast=lrlab.Bool(), label=lrlab.Str(),
                       opt=lrlab.Choice("sgd", "adam"))
    assert P.frameworks == ("torch",) and P.seed == 3 and P.lr == 1.0 and isinstance(P.lr, float)
    assert P.lrs == [0.1, 0.3] and P.sizes == [64, 4] and P.opts == ["adam", "sgd"] and P["fast"] is False
    assert list(P.as_dict()) == ["frameworks", "seed", "lr", "lrs", "sizes", "opts", "fast", "label", "opt"]


def test_lists_take_what_papermill_passes():
    """``-p sizes 64`` arrives as the int 64, ``-y`` as a list: both are one-element / ready lists."""
    assert lrlab.validate({"sizes": 64}, sizes=lrlab.IntList(1)).sizes == [64]
    assert lrlab.validate({"lrs": 0.1}, lrs=lrlab.FloatList(0)).lrs == [0.1]
    assert lrlab.validate({"lrs": [0.1, "0.2"]}, lrs=lrlab.FloatList(0)).lrs == [0.1, 0.2]
    assert lrlab.validate({"fw": ["torch", "tf"]}, fw=lrlab.Frameworks()).fw == ("tf", "torch")


@pytest.mark.parametrize("rule, value, expected", [
    (lrlab.Int(0, 10), "3", "a whole number >= 0 and <= 10"),         # wrong type
    (lrlab.Int(0, 10), 3.0, "a whole number"),
    (lrlab.Int(0, 10), True, "a whole number"),
    (lrlab.Int(0, 10), 11, "<= 10"),                                    # out of range
    (lrlab.Int(0, 10), -1, ">= 0"),
    (lrlab.Int(0, 10), math.nan, "a whole number"),                     # NaN
    (lrlab.Float(0, 1, low_open=True), 0, "a finite number > 0 and <= 1"),
    (lrlab.Float(0, 1, low_open=True), math.inf, "a finite number"),   # inf
    (lrlab.Float(0, 1, low_open=True), -math.inf, "a finite number"),
    (lrlab.Float(0, 1, low_open=True), math.nan, "a finite number"),
    (lrlab.Float(0, 1, low_open=True), "0.5", "a finite number"),
    (lrlab.Float(0, 1, high_open=True), 1.0, "< 1"),
    (lrlab.Bool(), 1, "True or False"),
    (lrlab.Str(), "", "a non-empty string"),
    (lrlab.Choice("sgd", "adam"), "adagrad", "one of 'sgd', 'adam'"),
    (lrlab.Choice("sgd", "adam"), 1, "one of 'sgd', 'adam'"),
    (lrlab.IntList(1), "", "at least one"),                             # empty list
    (lrlab.IntList(1), " , ", "at least one"),
    (lrlab.IntList(1), "4,x", "('x' is not one)"),                      # bad element
    (lrlab.IntList(1), "4,2.5", "('2.5' is not one)"),
    (lrlab.IntList(1), "4,0", "('0' is not one)"),                      # element out of range
    (lrlab.IntList(1), "4,4", "(4 is repeated)"),                       # duplicates
    (lrlab.IntList(1), True, "comma-separated whole numbers"),
    (lrlab.FloatList(0, 1), "0.5,nan", "('nan' is not one)"),           # NaN element
    (lrlab.FloatList(0, 1), "0.5,inf", "('inf' is not one)"),
    (lrlab.FloatList(0, 1), "0.5,2", "('2' is not one)"),
    (lrlab.FloatList(0, 1), "0.5,5e-1", "(0.5 is repeated)"),
    (lrlab.FloatList(0, 1), [0.5, None], "(None is not one)"),
    (lrlab.ChoiceList("sgd", "adam"), "sgd,adagrad", "('adagrad' is not one)"),  # unknown name
    (lrlab.ChoiceList("sgd", "adam"), "sgd,sgd", "('sgd' is repeated)"),
    (lrlab.ChoiceList("sgd", "adam"), 3, "names among 'sgd', 'adam'"),
    (lrlab.Frameworks(), "", "at least one"),
    (lrlab.Frameworks(), "tf,jax", "('jax' is not one)"),
    (lrlab.Frameworks(), "tf,tf", "('tf' is repeated)"),
])
def test_each_kind_of_bad_value_is_one_line(rule, value, expected):
    message = fails({"p": value}, "p", p=rule)
    assert expected in message and f"p = {value!r}" in message


def test_repeats_allowed_when_asked():
    assert lrlab.validate({"p": "1,1"}, p=lrlab.IntList(1, unique=False)).p == [1, 1]


def test_bounds_may_depend_on_earlier_parameters():
    rules = dict(epochs=lrlab.Int(1), warmup=lrlab.Int(0, "epochs"),
                 lo=lrlab.Float(-8, 2), hi=lrlab.Float("lo", 2),
                 budgets=lrlab.IntList(1), startup=lrlab.Int(1, lambda p: max(p.budgets)))
    good = {"epochs": 10, "warmup": 10, "lo": -3.0, "hi": -3, "budgets": "8,24", "startup": 24}
    assert lrlab.validate(good, **rules).hi == -3.0
    assert "<= 10 (epochs)" in fails({**good, "warmup": 11}, "warmup", **rules)
    assert ">= -3 (lo)" in fails({**good, "hi": -4.0}, "hi", **rules)
    assert "<= 24" in fails({**good, "startup": 25}, "startup", **rules)
    with pytest.raises(TypeError, match="not validated before it"):
        lrlab.validate(good, warmup=lrlab.Int(0, "epochs"), epochs=lrlab.Int(1))


def test_missing_and_unknown_parameters():
    assert "the notebook does not set it" in fails({"seed": 0}, "epochs", seed=lrlab.Int(0), epochs=lrlab.Int(1))
    ns = {"seed": 0, "epochs": 3, "epohcs": 5, "lrlab": lrlab, "math": math, "EPS": 1e-7, "_private": 1, "In": [],
          "Out": {}}
    assert "parameters are: seed, epochs" in fails(ns, "epohcs", seed=lrlab.Int(0), epochs=lrlab.Int(1))
    del ns["epohcs"]
    lrlab.validate(ns, seed=lrlab.Int(0), epochs=lrlab.Int(1))  # modules, constants, IPython's names: not parameters
    ns["later_result"] = 1.5  # an interactive rerun of the cell: the notebook's later globals are not parameters
    lrlab.validate(ns, seed=lrlab.Int(0), epochs=lrlab.Int(1))


def test_a_rule_must_be_a_rule():
    with pytest.raises(TypeError, match="lrlab rule"):
        lrlab.validate({"seed": 0}, seed=int)


def test_importing_lrlab_imports_no_framework():
    code = "import sys, lrlab; assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules; " \
           "assert lrlab.validate and lrlab.IntList and lrlab.Frameworks"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ----------------------------------------------------------------------------------------
# every chapter's parameters cell and validation cell
# ----------------------------------------------------------------------------------------
def cells(path: Path) -> list[tuple[str, str]]:
    """Return ``[(header, source)]`` of a jupytext percent-format file."""
    out, header, lines = [], None, []
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            if header is not None:
                out.append((header, "\n".join(lines)))
            header, lines = line, []
        elif header is not None:
            lines.append(line)
    out.append((header, "\n".join(lines)))
    return out


def _calls_validate(node) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "validate"
               and isinstance(n.func.value, ast.Name) and n.func.value.id == "lrlab" for n in ast.walk(node))


def extract(path: Path):
    """Return (parameters cell source, code of the validation cell up to and including its lrlab.validate call)."""
    found = cells(path)
    index = next(i for i, (h, _) in enumerate(found) if 'tags=["parameters"]' in h)
    parameters = found[index][1]
    # the validation cell: the first code cell after the parameters that calls lrlab.validate, before any prose
    # (an imports-only cell may come first)
    code = [src for h, src in itertools.takewhile(lambda c: "[markdown]" not in c[0], found[index + 1:])]
    upto = next(i for i, src in enumerate(code) if any(_calls_validate(node) for node in ast.parse(src).body))
    tree = ast.parse("\n".join(code[:upto + 1]))
    last = next(i for i, node in enumerate(tree.body) if _calls_validate(node))
    part = ast.Module(body=tree.body[:last + 1], type_ignores=[])
    assert not any(isinstance(n, (ast.Import, ast.ImportFrom)) and any(
        a.name.split(".")[0] in ("tensorflow", "torch", "keras") or a.name in ("lrlab.tf", "lrlab.torch")
        or (isinstance(n, ast.ImportFrom) and n.module in ("lrlab", None) and a.name in ("tf", "torch"))
        for a in n.names) for n in ast.walk(part)), f"{path.name}: the validation cell imports a framework"
    assert not any(isinstance(n, ast.Attribute) and n.attr == "load_backends" for n in ast.walk(part))
    return compile(parameters, f"{path.name}[parameters]", "exec"), compile(part, f"{path.name}[validation]", "exec")


class Spy:
    """Stands in for lrlab.validate: records the rules and the parsed parameters of the default run."""

    def __call__(self, namespace, /, **rules):
        self.rules = rules
        self.params = lp.validate(namespace, **rules)
        return self.params


def run(codes, overrides=None, drop=None, validate=None):
    parameters, validation = codes
    ns = {"__name__": "__main__"}
    exec(parameters, ns)
    ns.update(overrides or {})  # what papermill's injected-parameters cell does
    if drop:
        del ns[drop]
    if validate is not None:
        original = lrlab.validate
        lrlab.validate = validate
        try:
            exec(validation, ns)
        finally:
            lrlab.validate = original
    else:
        exec(validation, ns)
    return ns


def _below(rule, low):
    return low if getattr(rule, "low_open", False) else (low - 1 if isinstance(rule, (lp.Int, lp.IntList))
                                                         else low - abs(low) * 0.5 - 0.5)


def _above(rule, high):
    return high if getattr(rule, "high_open", False) else (high + 1 if isinstance(rule, (lp.Int, lp.IntList))
                                                           else high + abs(high) * 0.5 + 0.5)


def bad_values(rule, P, default):
    """Yield ``(kind, value)``: every kind of bad value that applies to ``rule``."""
    low, high = rule.bounds(P)
    if isinstance(rule, lp.Int):
        yield from [("wrong type", "x"), ("wrong type", 1.5), ("wrong type", True), ("NaN", math.nan),
                    ("inf", math.inf)]
        if low is not None:
            yield "out of range", _below(rule, low)
        if high is not None:
            yield "out of range", _above(rule, high)
    elif isinstance(rule, lp.Float):
        yield from [("wrong type", "x"), ("wrong type", True), ("NaN", math.nan), ("inf", math.inf),
                    ("inf", -math.inf)]
        if low is not None:
            yield "out of range", _below(rule, low)
        if high is not None:
            yield "out of range", _above(rule, high)
    elif isinstance(rule, lp.Bool):
        yield from [("wrong type", "yes"), ("wrong type", 1)]
    elif isinstance(rule, lp.Choice):
        yield from [("unknown name", "no_such_choice"), ("wrong type", 3)]
    elif isinstance(rule, lp.Str):
        yield from [("empty", ""), ("wrong type", 3)]
    elif isinstance(rule, lp._List):
        first = str(default).split(",")[0].strip() if isinstance(default, str) else str(default)
        yield from [("empty list", ""), ("empty list", " , "), ("wrong type", True)]
        if rule.unique:
            yield "duplicates", f"{first},{first}"
        if isinstance(rule, lp.ChoiceList):
            yield from [("unknown name", "no_such_name"), ("unknown name", f"{first},no_such_name"),
                        ("wrong type", 3)]
        else:
            yield from [("bad element", f"{first},x"), ("NaN", f"{first},nan"), ("inf", f"{first},inf")]
            if isinstance(rule, lp.IntList):
                yield "bad element", f"{first},2.5"
            if low is not None:
                yield "out of range", f"{first},{_below(rule, low)!r}"
            if high is not None:
                yield "out of range", f"{first},{_above(rule, high)!r}"
    else:  # pragma: no cover - a new rule type needs its bad values here
        raise AssertionError(f"no bad values for {rule!r}")


@pytest.fixture(scope="module")
def chapters():
    """{chapter: (compiled cells, rules, validated defaults, default values)} for every chapter."""
    out = {}
    for path in CHAPTERS:
        codes = extract(path)
        spy = Spy()
        ns = run(codes, validate=spy)
        defaults = {name: ns[name] for name in spy.rules}
        out[path.parent.name] = (codes, spy.rules, spy.params, defaults)
    return out


def test_every_chapter_has_a_validation_call():
    assert len(CHAPTERS) >= 15
    for path in CHAPTERS:
        extract(path)


@pytest.mark.parametrize("chapter", [p.parent.name for p in CHAPTERS])
def test_chapter_rejects_every_kind_of_bad_value(chapters, chapter):
    codes, rules, P, defaults = chapters[chapter]
    path = next(p for p in CHAPTERS if p.parent.name == chapter)
    parameters = ast.parse(next(src for h, src in cells(path) if 'tags=["parameters"]' in h))
    declared = [n.target.id if isinstance(n, ast.AnnAssign) else n.targets[0].id for n in parameters.body]
    assert list(rules) == declared, "one rule per parameter, in the cell's order"
    tried = set()
    for name, rule in rules.items():
        for kind, value in bad_values(rule, P, defaults[name]):
            with pytest.raises(ParameterError) as info:
                run(codes, {name: value})
            message = str(info.value)
            assert message.startswith(f"{name} = {value!r} is not allowed; expected ") and "\n" not in message, \
                f"{chapter}: {name} = {value!r} ({kind}): {message}"
            tried.add(kind)
    # a misspelt -p name, and a parameter the cell lost
    message = str(pytest.raises(ParameterError, run, codes, {"lerning_rate": 0.1}).value)
    assert message.startswith("lerning_rate = 0.1 is not allowed; expected no parameter of that name")
    last = list(rules)[-1]
    message = str(pytest.raises(ParameterError, run, codes, drop=last).value)
    assert message.startswith(f"{last} = <not set> is not allowed")
    assert {"wrong type", "out of range", "NaN", "inf"} <= tried or chapter.startswith("99")


def test_chapter_defaults_parse_as_before(chapters):
    """The lists the chapters used to parse by hand come out as the chapters declare them (sorted where sorted)."""
    expect = {
        "03-seed001": {"compare_lrs": [0.1, 0.01, 0.001]},
        "05-lr-grids": {"cv_lrs": [0.03, 0.1, 0.3, 1.0], "decay_steps": [34, 102, 340]},
        "07-search-strategies": {"budgets": [8, 24]},
        "08-batch-size": {"batch_sizes": [4, 16, 64, 256, 1024], "scale_factors": [4, 16, 64]},
        "09-momentum": {"momenta": [0.0, 0.5, 0.9, 0.99]},
        "10-optimizers": {"optimizers": ["sgd", "momentum", "adam", "adamw"]},
        "11-regularisation": {"batch_sizes": [16, 64, 256, 1024], "beta2s": [0.9, 0.99, 0.999, 0.9999]},
        "12-cyclic-lr": {"max_lrs": [0.2, 0.7]},
        "13-small-lr": {"lrs": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]},
        "14-decay-and-defaults": {"factors": [1.0, 10.0, 100.0, 1000.0]},
    }
    for chapter, values in expect.items():
        P = chapters[chapter][2]
        for name, value in values.items():
            assert P[name] == value, (chapter, name)
    for chapter, (_, _, P, _) in chapters.items():
        assert P.frameworks == ("tf", "torch"), chapter


def test_chapter_cells_import_no_framework():
    """Extracting and running every chapter's validation imports neither TensorFlow nor PyTorch."""
    code = (
        "import sys, json; sys.path.insert(0, 'tests'); import test_validate as t\n"
        "for p in t.CHAPTERS: t.run(t.extract(p))\n"
        "print(json.dumps(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
