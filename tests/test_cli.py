"""The lrlab command: --help everywhere, errors before any run, collect, and `lrlab book` in place."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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
    ("run", ["NOTEBOOK", "-p NAME VALUE", "--out DIR"]),
    ("sweep", ["NOTEBOOK", "-p NAME V1 [V2 ...]", "--workers N", "--scheduler ADDRESS", "--dask-local", "--out DIR"]),
    ("collect", ["DIR", "records.csv", "summary.png"]),
    ("book", ["PATH", "-p NAME VALUE", "--workers N"]),
])
def test_every_subcommand_has_help(command, words, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for word in words:
        assert word in text


@pytest.mark.parametrize("argv, message", [
    (["sweep", str(TINY), "-p", "lr", "0.1", "0.2"], "there is no parameter 'lr'; its parameters cell declares a, b, label"),
    (["sweep", str(TINY), "-p", "a", "1", "two"], "a = 'two' is not allowed; expected a whole number, like its default a = 1"),
    (["run", str(TINY), "-p", "flag", "maybe"], "flag = 'maybe' is not allowed; expected True or False"),
    (["sweep", str(TINY), "-p", "a", "1", "-p", "a", "2"], "-p a is given twice"),
    (["sweep", str(TINY), "-p", "a"], "-p a has no value"),
    (["sweep", "missing.ipynb", "-p", "a", "1"], "notebook 'missing.ipynb' does not exist"),
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
    assert "other.ipynb: z = 'one' is not allowed; expected a whole number, like its default z = 1" in capsys.readouterr().err


def test_the_summary_figure_plots_numeric_fields_of_dict_records(tmp_path):
    import pandas as pd

    from lrlab.sweep_results import records_csv, summary_figure

    frame = pd.DataFrame({
        "notebook": ["nb"] * 3, "run": ["nb/lr=0.1", "nb/lr=0.2", "nb/lr=0.2"], "lr": [0.1, 0.2, 0.2],
        "status": ["ok", "ok", "ok"], "seconds": [1.0, 1.0, 1.0], "error": ["", "", ""],
        "record": ["fit", "fit", "note"], "value": [{"loss": 0.5, "name": "a"}, {"loss": 0.25, "name": "b"}, "text"]})
    assert summary_figure(frame, tmp_path / "s.png", ["lr"])
    assert (tmp_path / "s.png").stat().st_size > 1000
    assert '"{""loss"": 0.5, ""name"": ""a""}"' in records_csv(frame)
    assert not summary_figure(frame[frame["record"] == "note"], tmp_path / "t.png", ["lr"])
    assert not (tmp_path / "t.png").exists()
