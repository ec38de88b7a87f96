"""A real Dask cluster, started as a user would, loses a worker mid-sweep; two sweeps share one folder.

Every process here is a subprocess run the way a user would type it (``dask scheduler``,
``dask worker``, ``lrlab sweep``), every wait has a deadline, and teardown kills whatever
is left. The notebook (tests/notebooks/counted.ipynb) appends a ``start`` line to a log
file when an execution begins and an ``end`` line when it gets past its pause, with the
kernel's pid and its parent's (the Dask worker process), so the tests count executions
of every run and know which worker ran each one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

COUNTED = Path(__file__).parent / "notebooks" / "counted.ipynb"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
FILES = ["counted.ipynb", "params.json", "run.log", "status.json"]  # a finished run folder, besides .lock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def spawn(tmp_path):
    """Return ``spawn(name, argv)``: a Popen in its own process group, its output in tmp_path/name.log.

    Teardown SIGKILLs every group that is still there and reaps it.
    """
    started = []

    def spawn(name, argv):
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed in teardown
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=ENV, cwd=tmp_path,
                                   start_new_session=True)
        started.append((process, log))
        return process

    yield spawn
    for process, log in started:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait for anything
            pass
        log.close()


def wait_for(condition, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def executions(log: Path) -> list[tuple[str, int, int, int]]:
    """Return the (word, point, kernel pid, worker pid) lines of the notebook's log."""
    if not log.exists():
        return []
    lines = [line.split() for line in log.read_text().splitlines()]
    return [(w, int(p), int(pid), int(ppid)) for w, p, pid, ppid in (line for line in lines if len(line) == 4)]


def statuses(out: Path) -> dict[int, dict]:
    """Return {point: status.json} of every run folder under out that has one."""
    found = {}
    for path in out.rglob("status.json"):
        status = json.loads(path.read_text())
        found[status["parameters"]["point"]] = status
    return found


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def check_folders(out: Path, points) -> None:
    """Every run folder is complete: the four files, status ok, no partial or temporary file anywhere."""
    folders = sorted((out / "counted").iterdir())
    assert len(folders) == len(points)
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir() if p.name != ".lock") == FILES, folder
        assert json.loads((folder / "status.json").read_text())["status"] == "ok"
    assert not [p for p in out.rglob("*") if ".partial-" in p.name or p.name.endswith(".tmp")]


def test_a_worker_killed_mid_sweep_loses_no_run_and_repeats_none(tmp_path, spawn):
    from dask.distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    t0 = time.monotonic()
    spawn("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
    workers = [spawn(f"worker{i}", [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard",
                                    "--name", f"worker{i}"]) for i in (1, 2)]
    with Client(address, timeout=30) as client:  # the scheduler is up and both workers joined
        client.wait_for_workers(2, timeout=30)
    t_cluster = time.monotonic() - t0

    points = list(range(1, 6))
    out, log = tmp_path / "out", tmp_path / "executions.log"
    sweep = spawn("sweep", [str(BIN / "lrlab"), "sweep", str(COUNTED), "-p", "point", *map(str, points),
                            "-p", "pause", "2", "-p", "log", str(log), "--scheduler", address,
                            "--out", str(out), "--no-progress"])

    def victim():
        """Return (worker, point) once a run is done and another is between its start and end on one worker."""
        lines = executions(log)
        ended = {p for w, p, _, _ in lines if w == "end"}
        if not any(s["status"] == "ok" for s in statuses(out).values()) if out.exists() else True:
            return None
        for word, point, _, worker_pid in lines:
            if word == "start" and point not in ended:
                for worker in workers:
                    if parent_of(worker_pid) == worker.pid:  # the kernel's parent is the nanny's worker process
                        return worker, point, worker_pid
        return None

    worker, killed_point, dead_worker = wait_for(victim, 60, "a finished run and a run in progress")
    done_before = {p for p, s in statuses(out).items() if s["status"] == "ok"}
    os.kill(worker.pid, signal.SIGKILL)  # `dask worker` itself; its worker process and kernel follow it
    t_kill = time.monotonic() - t0
    assert worker.wait(timeout=10) == -signal.SIGKILL

    assert sweep.wait(timeout=90) == 0, (tmp_path / "sweep.log").read_text()
    t_sweep = time.monotonic() - t0
    report = (tmp_path / "sweep.log").read_text()
    assert "5 runs: 5 ok, 0 done earlier (skipped), 0 failed, 0 timed out" in report

    lines = executions(log)
    starts = Counter(p for w, p, _, _ in lines if w == "start")
    ends = Counter(p for w, p, _, _ in lines if w == "end")
    # Every run's result is committed exactly once (attempts below). Its notebook's own side effect, the
    # "end" line, happens twice only for the run the kill interrupted, and only when the kill landed
    # between that notebook's last cell and lrlab's commit of its folder (a race the test cannot close):
    # at-least-once execution, exactly-once results.
    assert all(ends[p] == 1 for p in points if p != killed_point), "every other run must finish exactly once"
    assert ends[killed_point] in (1, 2)
    rerun = sorted(p for p in points if starts[p] == 2)
    assert killed_point in rerun and all(starts[p] in (1, 2) for p in points)
    assert not done_before & set(rerun), "a run that had finished before the kill was run again"
    final = statuses(out)
    assert {p: s["attempt"] for p, s in final.items()} == {p: starts[p] for p in points}
    for p in rerun:  # the killed attempt's log stays in run.log, followed by the attempt that finished
        folder = next(f for f in (out / "counted").iterdir()
                      if json.loads((f / "params.json").read_text())["parameters"]["point"] == p)
        text = (folder / "run.log").read_text()
        assert "attempt 1 started" in text and "attempt 2 started" in text and "lrlab: ok after" in text
    where = [ppid for w, p, _, ppid in lines if w == "start" and p == killed_point]
    assert where[0] == dead_worker and where[1] != dead_worker  # then run again by the surviving worker
    check_folders(out, points)

    collect = subprocess.run([str(BIN / "lrlab"), "collect", str(out)], capture_output=True, text=True, env=ENV,
                             timeout=60)
    assert collect.returncode == 0, collect.stderr
    assert "5 runs (5 ok), 5 records" in collect.stdout
    import pandas as pd

    frame = pd.read_csv(out / "records.csv")
    assert sorted(frame["point"]) == points and set(frame["status"]) == {"ok"}
    assert (frame["record"] == "point").all() and (frame["value"] == frame["point"]).all()
    print(f"\ncluster up {t_cluster:.1f} s; killed worker at {t_kill:.1f} s with {len(done_before)} run(s) done "
          f"and point {killed_point} in progress; runs started again: {rerun}; sweep done at {t_sweep:.1f} s")


def test_two_sweeps_on_one_folder_share_the_runs_and_repeat_none(tmp_path, spawn):
    points = list(range(1, 5))
    out, log = tmp_path / "out", tmp_path / "executions.log"
    argv = [str(BIN / "lrlab"), "sweep", str(COUNTED), "-p", "point", *map(str, points), "-p", "pause", "0.3",
            "-p", "log", str(log), "--workers", "1", "--out", str(out), "--no-progress"]
    t0 = time.monotonic()
    first, second = spawn("first", argv), spawn("second", argv)
    assert first.wait(timeout=90) == 0 and second.wait(timeout=90) == 0
    seconds = time.monotonic() - t0
    reports = [(tmp_path / f"{name}.log").read_text() for name in ("first", "second")]
    ran = [{line.split("point=")[1].split(",")[0] for line in r.splitlines() if line.startswith("ok ")}
           for r in reports]
    assert not ran[0] & ran[1], "both sweeps ran the same run"
    assert sorted(map(int, ran[0] | ran[1])) == points, "a run was lost"
    for report, mine in zip(reports, ran):
        skipped = len(points) - len(mine)
        assert f"{len(points)} runs: {len(mine)} ok, {skipped} done earlier (skipped), 0 failed, 0 timed out" in report
    lines = executions(log)
    assert Counter(p for w, p, _, _ in lines if w == "start") == Counter(points)
    assert Counter(p for w, p, _, _ in lines if w == "end") == Counter(points)
    assert {p: s["attempt"] for p, s in statuses(out).items()} == dict.fromkeys(points, 1)
    check_folders(out, points)
    print(f"\ntwo sweeps: {len(ran[0])} + {len(ran[1])} runs in {seconds:.1f} s")
