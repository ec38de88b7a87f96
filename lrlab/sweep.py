"""Papermill batch reruns: validate a parameter grid, run each point once, resume, report.

Every execution is one :func:`papermill.execute_notebook` call. The calls run on
a :class:`concurrent.futures.ProcessPoolExecutor` (the default) or on a Dask
cluster through ``dask.distributed.Client.get_executor()`` (``lrlab._executors``); both hand back
:class:`concurrent.futures.Future` objects, so :func:`execute` has one code path.

Run folders (``lrlab run`` / ``lrlab sweep``)::

    OUT/<notebook stem>/<name1=value1,name2=value2>/   ("defaults" when no -p is given)
        params.json         the notebook, its parameters, written when the run starts
        <stem>.ipynb        the executed notebook (with the error, if the run failed)
        run.log             every attempt: what the kernel printed, then the outcome
        status.json         written LAST: {"status": "ok" | "failed" | "timed-out", "seconds", "error", ...}

Values in folder names are percent-escaped where they are not ``[A-Za-z0-9+._-]``.
A run is *done* only when ``status.json`` says ``ok`` and its notebook exists.
Papermill writes into a hidden ``.<stem>.partial-<pid>-<random>.json`` beside the
final name, which is renamed into place only when execution ends; ``status.json``
is written atomically after that. A sweep killed at any moment therefore leaves
no file that counts as done without being complete, and running the same command
again skips the done runs and reruns failed, timed-out or unfinished ones.

Claims: a run holds an ``fcntl.flock`` lock on ``OUT/.../.lock`` while it works, and
checks under the lock whether the run is done. Two sweeps over the same folder
(or one sweep whose Dask task was started twice) therefore never execute one run
twice, and the operating system drops the lock of a process that dies, so a claim
is never left stale. A run whose lock is held elsewhere is put back at the end of
the queue and then waited for, so two sweeps share the work instead of queueing
behind each other. ``params.json`` counts the ``attempt``; ``run.log`` keeps every
attempt's log, a killed one included.

Timeouts: each papermill run gets ``execution_timeout`` (per cell; see
:data:`DEFAULT_EXECUTION_TIMEOUT`). A cell that runs longer is interrupted, the
kernel is shut down, and the run ends with status ``timed-out``: reported apart
from ``failed``, never counted as done, rerun by the next sweep.

Dask: a worker that dies mid-run takes its run with it; the scheduler gives the
task to another worker (up to ``distributed.scheduler.allowed-failures`` deaths,
default 3, after which the run is reported failed with ``KilledWorker``). The new
attempt takes the dead worker's lock, deletes its partial file and runs afresh.

In-place mode (``lrlab book``): the output is the input notebook itself; on
success the partial file is stripped of volatile metadata
(:func:`lrlab.notebooks.strip_volatile`) and renamed over the notebook, on
failure it is deleted and the committed notebook stays as it was.

Parameters are checked before anything runs, against papermill's inspection of the
notebook's ``parameters`` cell (``lrlab._parameters_cell``).
Ctrl-C stops the workers at once; their runs stay unfinished and the same command resumes.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import socket
import sys
import time
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from lrlab._executors import dask_executor, local_executor
from lrlab._parameters_cell import declared_parameters, parse_values
from lrlab.params import ParameterError

__all__ = [
    "DEFAULT_EXECUTION_TIMEOUT",
    "Job",
    "Result",
    "TIMED_OUT",
    "book_jobs",
    "dask_executor",
    "execute",
    "find_notebooks",
    "grid",
    "is_done",
    "local_executor",
    "remove_partials",
    "run_folder",
    "run_job",
    "summary_table",
    "sweep_jobs",
]

STATUS = "status.json"
PARAMS = "params.json"
LOG = "run.log"
LOCK = ".lock"
TIMED_OUT = "timed-out"
NEWLINE = "\n"
BUSY = "busy"  # run_job's answer when another process holds the run's lock and it was asked not to wait

#: Seconds one cell may run (papermill's ``execution_timeout``). A chapter runs in at most
#: 90 s with its defaults on the 2-core CI machine, so no cell of it needs more; 300 s leaves
#: more than three times that for a loaded or slower machine and moderately larger parameters,
#: and still ends a hung kernel within minutes. Raise it for heavy sweeps; 0 means no limit.
DEFAULT_EXECUTION_TIMEOUT = 300


# --------------------------------------------------------------------------- grid and jobs
def grid(values: dict[str, list]) -> list[dict]:
    """Return the Cartesian product of ``{name: [values]}`` as a list of ``{name: value}`` (last name fastest)."""
    names = list(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*(values[n] for n in names))]


@dataclass(frozen=True)
class Job:
    """One papermill execution: the notebook, its parameters, where the output goes."""

    notebook: str  # input notebook
    parameters: dict = field(default_factory=dict)
    output: str = ""  # final output notebook path
    folder: str | None = None  # run folder (run/sweep), None in place (book)
    cwd: str = ""  # working directory of the kernel: the notebook's folder
    label: str = ""
    timeout: float | None = DEFAULT_EXECUTION_TIMEOUT  # seconds per cell; None: no limit
    kernel: str | None = None  # kernel name; None: the notebook's own kernelspec


@dataclass(frozen=True)
class Result:
    """What became of a job: ``status`` is ``ok``, ``failed``, ``timed-out`` or ``skipped`` (done earlier)."""

    label: str
    status: str
    seconds: float = 0.0
    error: str = ""
    parameters: dict = field(default_factory=dict)


def _folder_value(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return quote(text, safe="+-._") or "''"


def run_folder(out, notebook, parameters: dict) -> Path:
    """Return the run folder ``OUT/<stem>/<name=value,…>`` of one grid point (``defaults`` for none)."""
    import hashlib

    name = ",".join(f"{k}={_folder_value(v)}" for k, v in parameters.items()) or "defaults"
    if len(name) > 150:
        name = f"{name[:100]}-{hashlib.sha1(name.encode()).hexdigest()[:12]}"
    return Path(out) / Path(notebook).stem / name


def is_done(folder) -> bool:
    """Return whether the run folder holds a finished run: ``status.json`` says ok and the notebook exists."""
    folder = Path(folder)
    try:
        status = json.loads((folder / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return status.get("status") == "ok" and (folder / status.get("output", "")).is_file()


def sweep_jobs(notebook, values: dict[str, list], out, *, timeout=DEFAULT_EXECUTION_TIMEOUT,
               kernel=None) -> list[Job]:
    """Return one job per point of the grid of already-typed ``values``, each in its run folder under ``out``.

    ``timeout`` is the per-cell execution timeout in seconds (None or 0: none), ``kernel``
    the kernel to run (None: the notebook's own).
    """
    notebook = Path(os.path.abspath(notebook))  # absolute: a Dask worker's working directory is its own
    jobs = []
    for point in grid(values):
        folder = Path(os.path.abspath(run_folder(out, notebook, point)))
        jobs.append(Job(notebook=str(notebook), parameters=point, output=str(folder / notebook.name),
                        folder=str(folder), cwd=str(notebook.parent), label=f"{notebook.stem}/{folder.name}",
                        timeout=timeout or None, kernel=kernel))
    return jobs


def find_notebooks(paths) -> list[Path]:
    """Return every ``*.ipynb`` under ``paths`` (files or folders), skipping checkpoints, ``_build``, hidden files."""
    found = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in path.rglob("*.ipynb")
                         if not {".ipynb_checkpoints", "_build"} & set(p.parts) and not p.name.startswith("."))
        else:
            raise FileNotFoundError(f"path {str(path)!r} does not exist")
    return sorted(dict.fromkeys(found))


def book_jobs(paths, values: dict[str, str], *, timeout=DEFAULT_EXECUTION_TIMEOUT) -> list[Job]:
    """Return one in-place job per notebook under ``paths``, with the ``-p`` values its parameters cell declares.

    ``values`` maps names to one text each. A name no notebook declares, or a value of the
    wrong type for a notebook that declares it, raises :class:`lrlab.ParameterError`.
    """
    notebooks = find_notebooks(paths)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks under {', '.join(map(str, paths))}")
    jobs, used = [], set()
    for notebook in notebooks:
        declared = declared_parameters(notebook)
        mine = {name: [text] for name, text in values.items() if name in declared}
        used.update(mine)
        parameters = {name: vals[0] for name, vals in parse_values(notebook, mine, declared).items()}
        path = os.path.abspath(notebook)
        jobs.append(Job(notebook=path, parameters=parameters, output=path, folder=None,
                        cwd=os.path.dirname(path), label=str(notebook), timeout=timeout or None))
    unknown = [name for name in values if name not in used]
    if unknown:
        raise ParameterError(f"no notebook under {', '.join(map(str, paths))} declares a parameter "
                             f"{unknown[0]!r}; -p only reaches notebooks whose parameters cell has that name")
    return jobs


# --------------------------------------------------------------------------- one run (in a worker)
def _write_json(path: Path, data) -> None:
    from lrlab.notebooks import write_atomically

    write_atomically(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def _last_line(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        text = f"{exc.ename}: {exc.evalue}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_partials(output, every: bool = False) -> None:
    """Delete the partial files left by killed runs of ``output``: those of dead processes, or ``every`` one.

    ``every`` is for a caller holding the run folder's lock.
    """
    output = Path(output)
    for partial in output.parent.glob(f".{output.stem}.partial-*.json"):
        try:
            pid = int(partial.name.rsplit(".partial-", 1)[1].split("-", 1)[0])
        except ValueError:
            continue
        if every or not _pid_alive(pid):
            partial.unlink(missing_ok=True)


#: the kernel's own log (e.g. ipykernel's "running over TCP without encryption" warning, a
#: "KeyboardInterrupt caught" line at shutdown) is not the notebook's output: keep it quiet
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL",)


def _execute_notebook(job: Job, partial: Path, log) -> None:
    """Execute the job's notebook into ``partial``; the kernel's streams and papermill's log go to ``log``.

    The one papermill call of lrlab: parameters, kernel, working directory and the per-cell
    timeout all come from the job.
    """
    import threading

    import papermill

    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("papermill %(levelname)s: %(message)s"))
    thread = threading.get_ident()
    handler.addFilter(lambda rec: rec.thread == thread)  # a Dask worker may run several jobs in threads
    papermill_log = logging.getLogger("papermill")
    papermill_log.propagate = False  # in a worker process: papermill speaks to the run's log only
    papermill_log.addHandler(handler)
    try:
        papermill.execute_notebook(job.notebook, str(partial), parameters=dict(job.parameters), cwd=job.cwd,
                                   kernel_name=job.kernel, execution_timeout=job.timeout,
                                   progress_bar=False, log_output=False, stdout_file=log, stderr_file=log,
                                   extra_arguments=list(KERNEL_ARGUMENTS))
    finally:
        papermill_log.removeHandler(handler)


def _claim(folder: Path, wait: bool):
    """Return the open lock file of the run folder, locked; None when another process holds it and not ``wait``."""
    import fcntl

    lock = open(folder / LOCK, "w")  # noqa: SIM115 - held until the end of the run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        lock.close()
        return None
    return lock


def run_job(job: Job, wait: bool = True) -> Result:
    """Execute one job with papermill and return its :class:`Result`; never raises for a failing notebook.

    Run folders are locked while the job works; a job whose folder is already done is skipped.
    When another process holds the lock, the job waits for it, or with ``wait=False``
    returns at once with status ``busy``.
    """
    output = Path(job.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    lock = None
    if job.folder is not None:
        lock = _claim(Path(job.folder), wait)
        if lock is None:
            return Result(job.label, BUSY, parameters=job.parameters)
    try:
        if job.folder is not None and is_done(job.folder):
            return Result(job.label, "skipped", parameters=job.parameters)
        return _run_locked(job, output)
    finally:
        if lock is not None:
            lock.close()


def _attempt(folder: Path) -> int:
    """Return the number of this attempt at the run: one more than ``params.json`` counted."""
    try:
        return int(json.loads((folder / PARAMS).read_text(encoding="utf-8")).get("attempt", 1)) + 1
    except (OSError, ValueError, TypeError, AttributeError):
        return 1


def _outcome(job: Job, exc: Exception) -> tuple[str, str]:
    """Return (status, error line) of a run that raised ``exc``."""
    from nbclient.exceptions import CellTimeoutError

    if isinstance(exc, CellTimeoutError):
        return TIMED_OUT, (f"a cell ran longer than the execution timeout of {job.timeout:g} s "
                           "(--execution-timeout)")
    return "failed", _last_line(exc)


def _run_locked(job: Job, output: Path) -> Result:
    from lrlab.notebooks import same_but_noise, strip_volatile

    folder = Path(job.folder) if job.folder is not None else None
    remove_partials(output, every=folder is not None)
    partial = output.parent / f".{output.stem}.partial-{os.getpid()}-{secrets.token_hex(4)}.json"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    attempt = 1
    if folder is not None:
        (folder / STATUS).unlink(missing_ok=True)
        attempt = _attempt(folder)
        _write_json(folder / PARAMS, {"notebook": job.notebook, "parameters": job.parameters, "attempt": attempt})
        log = open(folder / LOG, "a", encoding="utf-8")  # noqa: SIM115 - every attempt's log, in order
    else:
        log = open(os.devnull, "w")  # noqa: SIM115 - in place: the console line is the log
    t0 = time.perf_counter()
    status, error = "ok", ""
    with log:
        log.write(f"{'' if attempt == 1 else NEWLINE}lrlab: {job.notebook} {json.dumps(job.parameters)} "
                  f"attempt {attempt} started {started} on {socket.gethostname()} pid {os.getpid()}\n")
        log.flush()
        try:
            _execute_notebook(job, partial, log)
        except Exception as exc:  # a failing run is a result, not a crash of the sweep
            status, error = _outcome(job, exc)
        seconds = time.perf_counter() - t0
        log.write(f"\nlrlab: {status}{': ' + error if error else ''} after {seconds:.1f} s\n")
    if folder is None:
        if error:
            partial.unlink(missing_ok=True)
        else:
            mode = output.stat().st_mode & 0o777
            strip_volatile(partial)
            if same_but_noise(output, partial):  # only timings and figure pixels moved: keep the stored file
                partial.unlink()
            else:
                os.chmod(partial, mode)
                os.replace(partial, output)
    else:
        if partial.exists():
            os.replace(partial, output)
        _write_json(folder / STATUS, {"status": status, "error": error, "attempt": attempt,
                                      "seconds": round(seconds, 3), "started": started,
                                      "output": output.name, "parameters": job.parameters,
                                      "host": socket.gethostname()})
    return Result(job.label, status, seconds, error, job.parameters)


# --------------------------------------------------------------------------- many runs
def execute(jobs: list[Job], executor, *, progress=True, on_result=None) -> list[Result]:
    """Run ``jobs`` on ``executor`` (anything with concurrent.futures' ``submit``); return their results in job order.

    Run folders already done are skipped without being submitted. A run whose folder another
    process holds (another sweep over the same folder) is put back at the end of the queue and
    then waited for; it comes back ``skipped`` if that process finished it. ``on_result(result)``
    is called in this process as each run finishes. A tqdm bar over runs goes to stderr.
    """
    from tqdm import tqdm

    results: dict[int, Result] = {}
    todo = []
    for index, job in enumerate(jobs):
        if job.folder is not None and is_done(job.folder):
            results[index] = Result(job.label, "skipped", parameters=job.parameters)
            if on_result:
                on_result(results[index])
        else:
            todo.append(index)
    with tqdm(total=len(todo), file=sys.stderr, unit="run", disable=not progress or not todo,
              dynamic_ncols=True) as bar:
        futures = {executor.submit(run_job, jobs[i], False): i for i in todo}
        try:
            _gather(jobs, executor, futures, results, bar, on_result)
        except BaseException:  # Ctrl-C: start nothing more
            for future in futures:
                future.cancel()
            raise
    return [results[i] for i in range(len(jobs))]


def _gather(jobs, executor, futures, results, bar, on_result) -> None:
    """Fill ``results`` as the futures finish, updating the bar and calling ``on_result``.

    ``futures`` maps pending futures to job indices and is emptied as they finish; a
    ``busy`` run is submitted again, to wait for the lock, and its new future added.
    """
    while futures:
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        for future in done:
            index = futures.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # the worker itself died (or Dask gave up on it): the run stays unfinished
                result = Result(jobs[index].label, "failed", error=_last_line(exc), parameters=jobs[index].parameters)
            if result.status == BUSY:  # another sweep is running it: come back when the others are queued
                futures[executor.submit(run_job, jobs[index], True)] = index
                continue
            results[index] = result
            bar.update()
            if on_result:
                bar.clear()
                on_result(result)
                bar.refresh()


def summary_table(results: list[Result]) -> str:
    """Return a plain-text table of results: run, status, seconds, error; then the counts."""
    rows = [("run", "status", "seconds", "error")]
    rows += [(r.label, r.status, "-" if r.status == "skipped" else f"{r.seconds:.1f}", r.error) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed", TIMED_OUT)}
    lines.append(f"{len(results)} run{'s' * (len(results) != 1)}: {counts['ok']} ok, "
                 f"{counts['skipped']} done earlier (skipped), "
                 f"{counts['failed']} failed, {counts[TIMED_OUT]} timed out")
    return "\n".join(lines)
