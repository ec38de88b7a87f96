"""lrlab.sweep: checks against the parameters cell, real sweeps on a process pool and on Dask, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lrlab import ParameterError, sweep
from lrlab import _parameters_cell as parameters_cell

TINY = Path(__file__).parent / "notebooks" / "tiny.ipynb"
LRLAB = [sys.executable, "-m", "lrlab.cli"]


def statuses(out: Path) -> dict[str, str]:
    """Return {run folder name: status} for every status.json under out."""
    return {p.parent.name: json.loads(p.read_text())["status"] for p in out.rglob("status.json")}


def point(folder_name: str) -> str:
    """Return the "a=…,b=…" part of a run folder's name."""
    return ",".join(folder_name.split(",")[:2])


def marks_of(marks: Path) -> dict[str, int]:
    """Return {"a=…,b=…": number of executions of that point that reached the notebook's last cell}."""
    counts: dict[str, int] = {}
    for p in marks.iterdir():
        key = p.name.rsplit(",", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    return counts


# --------------------------------------------------------------------------- validation
def test_declared_parameters_follow_the_parameters_cell():
    declared = parameters_cell.declared_parameters(TINY)
    assert list(declared) == ["a", "b", "label", "flag", "pause", "marks"]
    assert {n: d.kind for n, d in declared.items()} == {
        "a": "int", "b": "float", "label": "str", "flag": "bool", "pause": "float", "marks": "str"}
    # papermill's line parser skips `a = 1  # … >= 0` (two '='); the ast pass keeps its default
    assert declared["a"].default == "1"


def test_values_parse_like_papermill_and_keep_the_declared_type():
    typed = parameters_cell.parse_values(TINY, {"flag": ["False", "True"], "b": ["2", "0.5", "2"], "label": ["123"],
                                                "a": ["3"]})
    assert typed == {"a": [3], "b": [2, 0.5], "label": ["123"], "flag": [False, True]}  # cell order, duplicates dropped
    assert type(typed["b"][0]) is int  # an int where a float is declared is fine, as papermill passes it


@pytest.mark.parametrize("values, message", [
    ({"lr": ["0.1"]},
     "tiny.ipynb: there is no parameter 'lr'; its parameters cell declares a, b, label, flag, pause, marks"),
    ({"a": ["x"]}, "tiny.ipynb: a = 'x' is not allowed; expected a whole number, like its default a = 1"),
    ({"a": ["1.5"]}, "a = '1.5' is not allowed; expected a whole number"),
    ({"a": ["True"]}, "a = 'True' is not allowed; expected a whole number"),
    ({"b": ["fast"]}, "b = 'fast' is not allowed; expected a number, like its default b = 0.5"),
    ({"flag": ["yes"]}, "flag = 'yes' is not allowed; expected True or False, like its default flag = True"),
    ({"a": []}, "a is given no value"),
])
def test_bad_names_and_values_are_one_clear_error(values, message):
    with pytest.raises(ParameterError) as info:
        parameters_cell.parse_values(TINY, values)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_notebook_is_named():
    with pytest.raises(FileNotFoundError, match="nope.ipynb"):
        parameters_cell.declared_parameters("nope.ipynb")


def test_grid_is_the_cartesian_product_in_order():
    assert sweep.grid({"a": [1, 2], "b": [0.5, 2.0]}) == [
        {"a": 1, "b": 0.5}, {"a": 1, "b": 2.0}, {"a": 2, "b": 0.5}, {"a": 2, "b": 2.0}]
    assert sweep.grid({}) == [{}]


def test_run_folders_name_the_parameters_and_escape_the_rest(tmp_path):
    assert sweep.run_folder(tmp_path, TINY, {"a": 1, "b": 0.5}) == tmp_path / "tiny" / "a=1,b=0.5"
    assert sweep.run_folder(tmp_path, TINY, {}).name == "defaults"
    assert sweep.run_folder(tmp_path, TINY, {"label": "tf,torch/x y"}).name == "label=tf%2Ctorch%2Fx%20y"
    long = sweep.run_folder(tmp_path, TINY, {"label": "x" * 400}).name
    assert len(long) < 120 and long != sweep.run_folder(tmp_path, TINY, {"label": "x" * 401}).name


# --------------------------------------------------------------------------- real sweeps
def check_2x2(out: Path, results) -> None:
    assert [r.status for r in results] == ["ok"] * 4
    assert statuses(out) == dict.fromkeys(["a=1,b=0.5", "a=1,b=2", "a=2,b=0.5", "a=2,b=2"], "ok")
    for folder in (out / "tiny").iterdir():
        assert sorted(p.name for p in folder.iterdir() if p.name != ".lock") == [
            "params.json", "run.log", "status.json", "tiny.ipynb"]
        params = json.loads((folder / "params.json").read_text())["parameters"]
        records = sweep_records(folder / "tiny.ipynb")
        assert records["product"] == params["a"] * params["b"]
        assert f"a={params['a']} b={params['b']} label=x" in (folder / "run.log").read_text()


def sweep_records(notebook: Path) -> dict:
    from lrlab import collect

    return dict(zip(collect(notebook)["name"], collect(notebook)["value"]))


def test_a_2x2_sweep_on_the_local_pool_runs_each_point_once_and_resumes(tmp_path):
    values = parameters_cell.parse_values(TINY, {"a": ["1", "2"], "b": ["0.5", "2"]})
    jobs = sweep.sweep_jobs(TINY, values, tmp_path)
    with sweep.local_executor(2) as pool:
        results = sweep.execute(jobs, pool, progress=False)
    check_2x2(tmp_path, results)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.ipynb")}
    with sweep.local_executor(2) as pool:
        again = sweep.execute(jobs, pool, progress=False)
    assert [r.status for r in again] == ["skipped"] * 4
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.ipynb")} == stamps


def test_a_2x2_sweep_on_a_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    values = parameters_cell.parse_values(TINY, {"a": ["1", "2"], "b": ["0.5", "2"]})
    jobs = sweep.sweep_jobs(TINY, values, tmp_path)
    with sweep.dask_executor(None, workers=2) as executor:
        results = sweep.execute(jobs, executor, progress=False)
    check_2x2(tmp_path, results)


def test_a_failed_run_is_reported_does_not_stop_the_others_and_reruns(tmp_path, capsys):
    from lrlab.cli import main

    marks = tmp_path / "marks"
    marks.mkdir()
    argv = ["sweep", str(TINY), "-p", "a", "-1", "2", "-p", "marks", str(marks), "--workers", "2",
            "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and "a=-1" in failed[0]
    assert failed[0].endswith("ParameterError: a = -1 is not allowed; expected a whole number >= 0")
    assert "2 runs: 1 ok, 0 done earlier (skipped), 1 failed" in out
    status = {k.split(",")[0]: v for k, v in statuses(tmp_path / "out").items()}
    assert status == {"a=-1": "failed", "a=2": "ok"}
    assert marks_of(marks) == {"a=2,b=0.5": 1}
    # the same command again: the finished run is skipped, the failed one reruns (and fails again)
    assert main(argv) == 1
    assert "2 runs: 0 ok, 1 done earlier (skipped), 1 failed" in capsys.readouterr().out
    assert marks_of(marks) == {"a=2,b=0.5": 1}


def test_a_sweep_killed_part_way_resumes_and_runs_each_point_exactly_once(tmp_path):
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    argv = LRLAB + ["sweep", str(TINY), "-p", "a", "1", "2", "-p", "b", "0.5", "2", "-p", "pause", "0.5",
                    "-p", "marks", str(marks), "--workers", "1", "--out", str(out), "--no-progress"]
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and first.poll() is None:
        done = [k for k, v in statuses(out).items() if v == "ok"] if out.exists() else []
        if done:
            break
        time.sleep(0.02)
    assert first.poll() is None, "the sweep ended before it could be killed"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    done_before = {point(k) for k, v in statuses(out).items() if v == "ok"}
    assert 1 <= len(done_before) < 4
    time.sleep(1.5)  # let an orphaned kernel notice that its parent is gone
    counts = marks_of(marks)
    assert all(counts.get(k) == 1 for k in done_before)

    second = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"4 runs: {4 - len(done_before)} ok, {len(done_before)} done earlier (skipped), 0 failed" in second.stdout
    final = {point(k): v for k, v in statuses(out).items()}
    assert final == dict.fromkeys(["a=1,b=0.5", "a=1,b=2", "a=2,b=0.5", "a=2,b=2"], "ok")
    notebooks = [p.relative_to(out) for p in out.rglob("*.ipynb")]
    assert len(notebooks) == 4 and len({p.parent for p in notebooks}) == 4  # one notebook per run
    assert not [p for p in out.rglob("*") if ".partial-" in p.name]
    counts = marks_of(marks)
    assert set(counts) == set(final)  # every point ran to its end…
    assert all(counts[k] == 1 for k in done_before), "a run finished before the kill was run again"


# --------------------------------------------------------------------------- timeouts and claims
COUNTED = Path(__file__).parent / "notebooks" / "counted.ipynb"


def test_a_timed_out_run_is_its_own_status_leaves_nothing_half_written_and_the_others_finish(tmp_path):
    out, log = tmp_path / "out", tmp_path / "executions.log"
    argv = LRLAB + ["sweep", str(COUNTED), "-p", "pause", "0", "60", "-p", "log", str(log), "--execution-timeout", "2",
                    "--workers", "2", "--out", str(out), "--no-progress"]
    started = time.monotonic()
    first = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert time.monotonic() - started < 45  # the 60 s cell was stopped after 2 s
    assert first.returncode == 1, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    timed_out = [line for line in lines if line.startswith("timed-out")]
    assert len(timed_out) == 1 and "pause=60" in timed_out[0]
    assert timed_out[0].endswith("a cell ran longer than the execution timeout of 2 s (--execution-timeout)")
    assert "2 runs: 1 ok, 0 done earlier (skipped), 0 failed, 1 timed out" in first.stdout
    status = {k.split(",")[0]: v for k, v in statuses(out).items()}
    assert status == {"pause=0": "ok", "pause=60": "timed-out"}
    assert not [p for p in out.rglob("*") if ".partial-" in p.name or p.name.endswith(".tmp")]
    slow = next(p for p in (out / "counted").iterdir() if p.name.startswith("pause=60"))
    assert sorted(p.name for p in slow.iterdir() if p.name != ".lock") == [
        "counted.ipynb", "params.json", "run.log", "status.json"]  # the notebook as far as it got, for reading
    assert "lrlab: timed-out: a cell ran longer" in (slow / "run.log").read_text()
    assert not sweep.is_done(slow)
    assert sorted(log.read_text().split()[0::4]) == ["end", "start", "start"]  # the slow run never got to its end
    collect = subprocess.run(LRLAB + ["collect", str(out)], capture_output=True, text=True, timeout=60)
    assert "2 runs (1 ok, 1 timed-out)" in collect.stdout


def test_a_run_held_by_another_process_is_busy_and_free_once_that_process_dies(tmp_path):
    values = parameters_cell.parse_values(COUNTED, {"point": ["1"]})
    job = sweep.sweep_jobs(COUNTED, values, tmp_path)[0]
    Path(job.folder).mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({str(Path(job.folder) / '.lock')!r}, 'w'); fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('held', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert sweep.run_job(job, wait=False).status == "busy"
        assert not (Path(job.folder) / "params.json").exists()  # nothing was touched
    finally:
        holder.kill()  # a claim whose process died is free: the OS drops the lock with the process
        holder.wait(timeout=10)
    result = sweep.run_job(job, wait=False)
    assert result.status == "ok" and sweep.is_done(job.folder)
    assert sweep.run_job(job, wait=False).status == "skipped"
