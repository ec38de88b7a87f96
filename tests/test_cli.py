"""The lrlab command: --help everywhere, errors before any run, collect, and `lrlab book` in place."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from lrlab.cli import main

TINY = Path(__file__).parent / "notebooks" / "tiny.ipynb"


def test_the_console_script_is_installed():
    lrlab = Path(sys.executable).parent / "lrlab"
    result = subprocess.run([str(lrlab), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("lrlab ")


@pytest.mark.parametrize("command, words", [
    ("params", ["NOTEBOOK", "help text", "papermill's --help-notebook"]),
    ("run", ["NOTEBOOK", "-p NAME VALUE", "-f FILE.yaml", "-k NAME", "--execution-timeout SECONDS", "--out DIR"]),
    ("sweep", ["NOTEBOOK", "-p NAME V1 [V2 ...]", "-f FILE.yaml", "-k NAME", "--execution-timeout SECONDS",
               "--workers N", "--scheduler ADDRESS", "--dask-local", "--out DIR", "initial_lr: [0.05, 0.1, 0.2]"]),
    ("collect", ["DIR", "records.csv", "summary.png"]),
    ("book", ["PATH", "-p NAME VALUE", "--workers N", "--execution-timeout SECONDS"]),
])
def test_every_subcommand_has_help_with_examples(command, words, capsys):
    from lrlab.cli import EXAMPLES

    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    raw = capsys.readouterr().out
    text = " ".join(raw.split())
    for word in words:
        assert word in text
    assert "\nexamples:\n" in raw
    for example in EXAMPLES[command]:
        assert f"  {example}\n" in raw  # examples keep their lines (RawDescriptionHelpFormatter)


def test_the_reference_page_is_generated_from_the_parser():
    from lrlab import cli_reference

    page = Path(__file__).parents[1] / cli_reference.PAGE
    assert page.read_text(encoding="utf-8") == cli_reference.markdown(), \
        "the command-line reference is out of date: run `python -m lrlab.cli_reference` and commit the page"
    text = page.read_text(encoding="utf-8")
    for command in ("params", "run", "sweep", "collect", "book"):
        assert f"## `lrlab {command}`" in text
    assert "| `--execution-timeout SECONDS` |" in text and "| `-k NAME`, `--kernel NAME` |" in text


def test_params_lists_names_types_defaults_and_help(capsys):
    assert main(["params", str(TINY)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{TINY}: 6 parameters"
    assert lines[1].split() == ["name", "type", "default", "help"]
    # papermill's parser skips the next line
    assert lines[2].split() == ["a", "int", "1", "a", "whole", "number", ">=", "0"]
    assert lines[4].split() == ["label", "str", '"x"']
    assert " ".join(lines[6].split()) == 'pause float 0.0 seconds to sleep, so that a test can kill a sweep part-way'
    assert main(["params", "missing.ipynb"]) == 2
    assert capsys.readouterr().err == "lrlab params: error: notebook 'missing.ipynb' does not exist\n"


def test_a_parameters_file_gives_values_and_lists_and_p_replaces_them(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text("a: [1, 2]\nb: 1e-3\nflag: false\nlabel: 7\n")
    out = tmp_path / "out"
    assert main(["sweep", str(TINY), "-f", str(grid), "-p", "a", "3", "--out", str(out), "--no-progress"]) == 0
    assert "1 run: 1 ok" in capsys.readouterr().out  # -p a 3 replaced the file's [1, 2]
    params = json.loads(next(out.rglob("params.json")).read_text())["parameters"]
    assert params == {"a": 3, "b": 0.001, "label": "7", "flag": False}  # 1e-3 is a number, 7 a label's text
    assert main(["run", str(TINY), "-f", str(grid), "--out", str(out)]) == 2
    assert "lrlab run takes one value per parameter; a is given 2 (lrlab sweep runs a list of values)" in \
        capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    (None, "parameters file '{path}' does not exist"),
    ("- 1\n- 2\n", "{path}: holds a list; expected a mapping of parameter names to a value or a list of values"),
    ("", "{path}: holds nothing; expected a mapping"),
    ("a: [1\n", "{path}: not valid YAML (line 2); expected a mapping"),
    ("lr: [0.1, 0.2]\n",
     "{path}: {nb} has no parameter 'lr'; its parameters cell declares a, b, label, flag, pause, marks"),
    ("a: []\n", "{path}: a is an empty list; expected at least one value"),
    ("a: [[1, 2]]\n", "{path}: a has a nested list among its values"),
    ("a: two\n", "{nb}: a = 'two' is not allowed; expected a whole number"),
])
def test_a_bad_parameters_file_is_one_line_and_runs_nothing(text, message, tmp_path, capsys):
    path = tmp_path / "grid.yaml"
    if text is not None:
        path.write_text(text)
    assert main(["sweep", str(TINY), "-f", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message.format(path=path, nb=TINY) in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_kernel_is_passed_to_papermill_and_an_unknown_one_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(TINY), "-k", "no-such-kernel", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "kernel 'no-such-kernel' is not installed here; installed kernels: " in err and "python3" in err
    assert not out.exists()
    assert main(["run", str(TINY), "-k", "python3", "--out", str(out), "--no-progress"]) == 0
    metadata = json.loads(next(out.rglob("tiny.ipynb")).read_text())["metadata"]
    assert metadata["kernelspec"]["name"] == "python3"
    capsys.readouterr()


@pytest.mark.parametrize("value", ["-1", "soon", "nan"])
def test_a_bad_execution_timeout_is_refused(value, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", str(TINY), "--execution-timeout", value])
    assert info.value.code == 2
    assert "expected a number of seconds >= 0 (0: no limit)" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["sweep", str(TINY), "-p", "lr", "0.1", "0.2"],
     "there is no parameter 'lr'; its parameters cell declares a, b, label"),
    (["sweep", str(TINY), "-p", "a", "1", "two"],
     "a = 'two' is not allowed; expected a whole number, like its default a = 1"),
    (["run", str(TINY), "-p", "flag", "maybe"], "flag = 'maybe' is not allowed; expected True or False"),
    (["sweep", str(TINY), "-p", "a", "1", "-p", "a", "2"], "-p a is given twice"),
    (["sweep", str(TINY), "-p", "a"], "-p a has no value"),
    (["sweep", "missing.ipynb", "-p", "a", "1"], "notebook 'missing.ipynb' does not exist"),
    (["sweep", str(TINY), "-f", "missing.yaml"], "parameters file 'missing.yaml' does not exist"),
])
def test_bad_names_and_values_stop_before_any_run(argv, message, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_run_then_collect_gives_a_csv_and_a_figure(tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "out"
    assert main(["run", str(TINY), "-p", "a", "3", "-p", "label", "y", "--out", str(out), "--no-progress"]) == 0
    assert main(["sweep", str(TINY), "-p", "a", "3", "-p", "label", "y", "--out", str(out), "--no-progress"]) == 0
    assert "1 run: 0 ok, 1 done earlier (skipped), 0 failed" in capsys.readouterr().out
    assert main(["run", str(TINY), "-p", "a", "-2", "--out", str(out), "--no-progress"]) == 1
    assert main(["collect", str(out)]) == 0
    assert "2 runs (1 ok, 1 failed), 2 records" in capsys.readouterr().out
    frame = pd.read_csv(out / "records.csv")
    assert list(frame.columns) == ["notebook", "run", "a", "label", "status", "seconds", "error", "record", "value"]
    ok = frame[frame["status"] == "ok"].set_index("record")
    assert ok.loc["product", "value"] == "1.5" and ok.loc["label", "value"] == "y"
    failed = frame[frame["status"] == "failed"].iloc[0]
    assert failed["a"] == -2 and failed["error"].startswith("ParameterError: a = -2 is not allowed")
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def make_book(root: Path) -> Path:
    """Return a small book: tiny.ipynb in ch1/, and in ch2/ a notebook that has no parameter `a`."""
    (root / "ch1").mkdir(parents=True)
    shutil.copy(TINY, root / "ch1" / "tiny.ipynb")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("z = 1", metadata={"tags": ["parameters"]}, id="p"),
                nbformat.v4.new_code_cell("import os\nprint(z, os.path.basename(os.getcwd()))", id="q")]
    (root / "ch2").mkdir()
    nbformat.write(nb, root / "ch2" / "other.ipynb")
    (root / "_build").mkdir()
    shutil.copy(TINY, root / "_build" / "skipped.ipynb")
    return root


def outputs(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_book_executes_in_place_passes_p_only_where_declared_and_is_stable(tmp_path, capsys):
    book = make_book(tmp_path / "book")
    assert main(["book", str(book), "-p", "a", "3", "--workers", "2", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "2 runs: 2 ok" in text and "skipped.ipynb" not in text
    tiny, other = book / "ch1" / "tiny.ipynb", book / "ch2" / "other.ipynb"
    assert "a=3 b=0.5 label=x flag=True\n" in outputs(tiny)
    assert outputs(other) == ["1 ch2\n"]  # ran in its own folder, nothing injected
    assert "papermill" not in nbformat.read(other, as_version=4).metadata
    assert json.loads(tiny.read_text())["metadata"]["papermill"]["parameters"] == {"a": 3}
    assert "start_time" not in json.loads(tiny.read_text())["metadata"]["papermill"]  # stripped
    # no -p: nothing injected, and a second run changes no byte (git status stays clean)
    assert main(["book", str(book), "--workers", "2", "--no-progress"]) == 0
    first = {p: p.read_bytes() for p in (tiny, other)}
    assert main(["book", str(tiny), str(other), "--workers", "2", "--no-progress"]) == 0
    assert {p: p.read_bytes() for p in (tiny, other)} == first
    assert sorted(p.name for p in book.rglob("*") if p.is_file()) == ["other.ipynb", "skipped.ipynb", "tiny.ipynb"]


def test_a_rerun_that_moves_only_printed_timings_keeps_the_stored_notebook(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("n = 2", metadata={"tags": ["parameters"]}, id="p"),
                nbformat.v4.new_code_cell("import time\nprint(n)\nprint(f'time: {time.perf_counter_ns()} ms')",
                                          id="q")]
    path = tmp_path / "timed.ipynb"
    nbformat.write(nb, path)
    assert main(["book", str(path), "--no-progress"]) == 0
    first = path.read_bytes()
    assert main(["book", str(path), "--no-progress"]) == 0
    assert path.read_bytes() == first  # the fresh run printed another time: the stored file stays
    assert main(["book", str(path), "-p", "n", "3", "--no-progress"]) == 0
    assert outputs(path)[0].startswith("3\ntime: ")  # a real change is written
    capsys.readouterr()


def test_a_failing_book_notebook_keeps_its_old_version(tmp_path, capsys):
    book = make_book(tmp_path / "book")
    before = {p: p.read_bytes() for p in book.rglob("*.ipynb")}
    assert main(["book", str(book / "ch1"), "-p", "a", "-3", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "failed" in out and "ParameterError: a = -3 is not allowed; expected a whole number >= 0" in out
    assert {p: p.read_bytes() for p in book.rglob("*.ipynb")} == before
    assert sorted(p.name for p in book.rglob("*") if p.is_file()) == ["other.ipynb", "skipped.ipynb", "tiny.ipynb"]


def test_book_rejects_a_name_no_notebook_declares_and_a_wrong_type(tmp_path, capsys):
    book = make_book(tmp_path / "book")
    assert main(["book", str(book), "-p", "frameworks", "torch"]) == 2
    assert "no notebook under" in capsys.readouterr().err
    assert main(["book", str(book), "-p", "z", "one"]) == 2
    expected = "other.ipynb: z = 'one' is not allowed; expected a whole number, like its default z = 1"
    assert expected in capsys.readouterr().err


def test_the_summary_figure_plots_numeric_fields_of_dict_records(tmp_path):
    import pandas as pd

    from lrlab._sweep_results import records_csv, summary_figure

    frame = pd.DataFrame({
        "notebook": ["nb"] * 3, "run": ["nb/lr=0.1", "nb/lr=0.2", "nb/lr=0.2"], "lr": [0.1, 0.2, 0.2],
        "status": ["ok", "ok", "ok"], "seconds": [1.0, 1.0, 1.0], "error": ["", "", ""],
        "record": ["fit", "fit", "note"], "value": [{"loss": 0.5, "name": "a"}, {"loss": 0.25, "name": "b"}, "text"]})
    assert summary_figure(frame, tmp_path / "s.png", ["lr"])
    assert (tmp_path / "s.png").stat().st_size > 1000
    assert '"{""loss"": 0.5, ""name"": ""a""}"' in records_csv(frame)
    assert not summary_figure(frame[frame["record"] == "note"], tmp_path / "t.png", ["lr"])
    assert not (tmp_path / "t.png").exists()


def test_a_book_notebook_that_times_out_keeps_its_old_version(tmp_path, capsys):
    book = make_book(tmp_path / "book")
    tiny = book / "ch1" / "tiny.ipynb"
    before = tiny.read_bytes()
    started = time.monotonic()
    assert main(["book", str(tiny), "-p", "pause", "60", "--execution-timeout", "1", "--no-progress"]) == 1
    assert time.monotonic() - started < 40
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "tiny.ipynb" in line and not line.startswith(("run", "1 run")))
    assert line.startswith("timed-out") and "a cell ran longer than the execution timeout of 1 s" in line
    assert "1 run: 0 ok, 0 done earlier (skipped), 0 failed, 1 timed out" in out
    assert tiny.read_bytes() == before
    assert sorted(p.name for p in (book / "ch1").iterdir()) == ["tiny.ipynb"]
