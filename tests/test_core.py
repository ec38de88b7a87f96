"""lrlab's framework-free core: parameters, records, data, notebooks, golden table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import lrlab
from lrlab import data, golden, notebooks, records


def test_import_lrlab_pulls_in_no_framework():
    code = ("import sys, lrlab, lrlab.data, lrlab.golden, lrlab.records, lrlab.notebooks, lrlab.cli; "
            "print(sorted(m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("call, message", [
    (lambda: lrlab.check_number("initial_lr", -0.1, low=0, low_open=True),
     "initial_lr = -0.1 is not allowed; expected a finite number > 0"),
    (lambda: lrlab.check_number("lr", float("nan")), "lr = nan is not allowed"),
    (lambda: lrlab.check_number("lr", "0.1"), "lr = '0.1' is not allowed"),
    (lambda: lrlab.check_int("steps", 2.5, low=0), "steps = 2.5 is not allowed; expected a whole number >= 0"),
    (lambda: lrlab.check_int("steps", True), "steps = True is not allowed"),
    (lambda: lrlab.check_bool("staircase", "yes"), "staircase = 'yes' is not allowed; expected True or False"),
    (lambda: lrlab.check_choice("mode", "tri", ("triangular", "exp_range")),
     "mode = 'tri' is not allowed; expected one of 'triangular', 'exp_range'"),
    (lambda: lrlab.check_frameworks("jax"), "frameworks = 'jax' is not allowed"),
    (lambda: lrlab.check_frameworks(""), "frameworks = '' is not allowed"),
])
def test_bad_values_name_parameter_value_and_what_is_allowed(call, message):
    with pytest.raises(lrlab.ParameterError) as info:
        call()
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_good_values_pass_through():
    assert lrlab.check_number("lr", 1, low=0, low_open=True) == 1.0
    assert lrlab.check_int("steps", np.int64(3), low=0) == 3
    assert lrlab.check_frameworks("torch, tf") == ("tf", "torch")
    assert lrlab.check_frameworks(["torch"]) == ("torch",)


def test_parameter_error_is_one_line_in_a_kernel(tmp_path):
    import papermill

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("lr = 0.1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import lrlab\nlrlab.check_number('lr', lr, low=0, low_open=True)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(str(src), str(tmp_path / "out.ipynb"), parameters={"lr": -1.0},
                                   progress_bar=False, log_output=False)
    assert info.value.ename == "ParameterError"
    assert info.value.traceback == ["ParameterError: lr = -1.0 is not allowed; expected a finite number > 0"]


def test_record_outside_ipython_prints(capsys):
    lrlab.record("best_lr", np.float32(0.5))
    assert capsys.readouterr().out == "recorded best_lr = 0.5\n"


def test_to_json_value_handles_numpy_pandas_and_non_finite():
    import pandas as pd

    frame = pd.DataFrame({"lr": [0.1, 1.0], "loss": [0.2, float("nan")]})
    assert records.to_json_value(frame) == [{"lr": 0.1, "loss": 0.2}, {"lr": 1.0, "loss": "nan"}]
    assert records.to_json_value({"a": np.arange(2), "b": np.bool_(True)}) == {"a": [0, 1], "b": True}
    with pytest.raises(TypeError, match="cannot store"):
        records.to_json_value(object())


def test_collect_reads_records_back(tmp_path):
    nb = nbformat.v4.new_notebook()
    bundle = {"output_type": "display_data", "metadata": {},
              "data": {records.MIME_TYPE: {"name": "final_loss", "value": 0.25}, "text/plain": "recorded"}}
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.from_dict(bundle)])]
    nb.metadata["papermill"] = {"parameters": {"lr": 0.1}}
    nbformat.write(nb, tmp_path / "a.ipynb")
    frame = lrlab.collect(tmp_path)
    assert frame.to_dict(orient="records") == [
        {"notebook": str(tmp_path / "a.ipynb"), "name": "final_loss", "value": 0.25, "parameters": {"lr": 0.1}}]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        lrlab.collect(tmp_path / "missing")


def test_seed001_task_is_the_seeds_task():
    split = data.seed001_task()
    assert split.x_train.shape == (1000, 20) and split.x_test.shape == (200, 20)
    assert split.y_train.shape == (1000, 1) and split.x_train.dtype == np.float32
    np.testing.assert_array_equal(split.y_train[:, 0], split.x_train.sum(axis=1) > 10)
    assert 0.4 < split.y_train.mean() < 0.6
    np.testing.assert_array_equal(data.seed001_task(seed=3).x_test, data.seed001_task(seed=3).x_test)


@pytest.mark.parametrize("lr, regime", [(0.0, "static"), (0.2, "monotone"), (0.5, "one step"), (0.7, "oscillating"),
                                        (1.0, "oscillating forever"), (1.2, "diverging")])
def test_quadratic_regimes_follow_the_curvature(lr, regime):
    q = data.Quadratic()
    assert q.regime(lr) == regime
    w = 5.0
    assert q.grad(w) == 12.0 and q.curvature == 2.0
    assert (w - lr * q.grad(w)) - q.c == pytest.approx(q.contraction(lr) * (w - q.c))


def test_last_digit_unit():
    assert golden.last_digit_unit("23.04") == pytest.approx(0.01)
    assert golden.last_digit_unit("2.43633e-05") == pytest.approx(1e-10)
    assert golden.last_digit_unit("3") == 1.0


def test_numpy_reference_reproduces_the_published_table():
    lr = lambda k: np.float32(0.1) * np.float32(0.99) ** np.float32(k)  # noqa: E731
    trace = golden.reference_trace(5.0, lr, 40)
    comparison = golden.compare_with_published(trace)
    assert len(comparison) == 120
    assert comparison.units_off.max() <= 1.0
    assert golden.final_w_text(trace) == data.E004_4_FINAL_W


def test_strip_volatile_removes_only_timestamps(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1", outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "1"},
                                                                           execution_count=1)])
    cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00"}
    cell.metadata["papermill"] = {"duration": 0.1}
    cell.metadata["tags"] = ["parameters"]
    untagged = nbformat.v4.new_code_cell("2", metadata={"tags": []})
    nb.cells = [cell, untagged]
    nb.metadata["papermill"] = {"start_time": "x", "duration": 1.0, "parameters": {"lr": 0.1}}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert notebooks.strip_volatile(path) is True
    stored = json.loads(path.read_text())
    assert stored["metadata"]["papermill"] == {"parameters": {"lr": 0.1}}
    assert stored["cells"][0]["metadata"] == {"tags": ["parameters"]}
    assert stored["cells"][0]["outputs"][0]["data"] == {"text/plain": ["1"]}
    assert stored["cells"][1]["metadata"] == {}
    assert notebooks.strip_volatile(path) is False


def test_adjacent_stream_outputs_are_merged(tmp_path):
    nb = nbformat.v4.new_notebook()
    parts = [nbformat.v4.new_output("stream", name="stdout", text="a"),
             nbformat.v4.new_output("stream", name="stdout", text="\n"),
             nbformat.v4.new_output("stream", name="stderr", text="w\n"),
             nbformat.v4.new_output("stream", name="stdout", text="b\n")]
    nb.cells = [nbformat.v4.new_code_cell("print('a')", outputs=parts)]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert notebooks.strip_volatile(path) is True
    outputs = json.loads(path.read_text())["cells"][0]["outputs"]
    streams = [(o["name"], "".join(o["text"])) for o in outputs]
    assert streams == [("stdout", "a\n"), ("stderr", "w\n"), ("stdout", "b\n")]


def test_same_but_timings_ignores_printed_times_only(tmp_path):
    a, b, c = tmp_path / "a.ipynb", tmp_path / "b.ipynb", tmp_path / "c.ipynb"
    a.write_text('{"text": ["loss 0.25\\n", "time: 12.3 s\\n"]}')
    b.write_text('{"text": ["loss 0.25\\n", "time: 850 ms\\n"]}')
    c.write_text('{"text": ["loss 0.26\\n", "time: 12.3 s\\n"]}')
    assert notebooks.same_but_timings(a, b)
    assert not notebooks.same_but_timings(a, c)
    assert not notebooks.same_but_timings(tmp_path / "missing.ipynb", a)


def test_the_timing_pattern_is_the_nbval_sanitizer():
    import configparser

    config = configparser.ConfigParser()
    config.read(Path(__file__).parent / "sanitize.cfg")
    assert [config[s]["regex"] for s in config.sections()] == [notebooks.TIMING.pattern]
