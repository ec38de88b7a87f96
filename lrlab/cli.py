"""The ``lrlab`` command: papermill batch reruns of the book's notebooks.

::

    lrlab params NOTEBOOK
    lrlab run NOTEBOOK [-p NAME VALUE]... [-f FILE.yaml] [-k KERNEL] [--execution-timeout S] [--out DIR]
    lrlab sweep NOTEBOOK [-p NAME V1 V2 ...]... [-f FILE.yaml] [--workers N] [--scheduler ADDRESS | --dask-local]
    lrlab collect DIR
    lrlab book [PATH ...] [-p NAME VALUE]... [--workers N] [--execution-timeout S]

``run`` and ``sweep`` write one run folder per grid point (layout in
:mod:`lrlab.sweep`) and resume: a finished run is skipped, a failed, timed-out or
unfinished one reruns. ``book`` executes notebooks in place. Every command checks all
names and values before the first run starts, prints one line per finished run and a
summary table, and exits 1 if any run failed or timed out (2 for bad arguments).
The reference page of the book is generated from :func:`build_parser` by
:mod:`lrlab.cli_reference`.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

__all__ = ["EXAMPLES", "build_parser", "main"]

DEFAULT_OUT = "runs"
CHAPTER = "book/01-gradient-step/gradient-step.ipynb"

#: the examples each subcommand's --help ends with (and the reference page shows)
EXAMPLES = {
    "params": [
        f"lrlab params {CHAPTER}",
    ],
    "run": [
        f"lrlab run {CHAPTER} -p initial_lr 0.05 -p frameworks torch",
        f"lrlab run {CHAPTER} -f settings.yaml -k python3 --execution-timeout 600",
    ],
    "sweep": [
        f"lrlab sweep {CHAPTER} -p initial_lr 0.05 0.1 0.2 -p staircase True False --workers 2",
        f"lrlab sweep {CHAPTER} -f grid.yaml -p seed 0 1 2   # -p replaces the file's seed values",
        f"lrlab sweep {CHAPTER} -f grid.yaml --scheduler tcp://10.0.0.5:8786 --out /shared/runs",
    ],
    "collect": [
        "lrlab collect runs",
        "lrlab collect runs/gradient-step",
    ],
    "book": [
        "lrlab book",
        "lrlab book book/01-gradient-step -p seed 1 --workers 1",
        "lrlab book -p frameworks torch --execution-timeout 120",
    ],
}

GRID_YAML = """\
# grid.yaml: each name takes a value or a list of values
initial_lr: [0.05, 0.1, 0.2]
staircase: [true, false]
frameworks: torch"""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; expected a whole number >= 1")
    return value


def _seconds(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; expected a number of seconds >= 0 (0: no limit)")
    return value


def _paragraphs(*texts: str) -> str:
    return "\n\n".join(textwrap.fill(" ".join(t.split()), 78) for t in texts)


def _epilog(command: str, extra: str = "") -> str:
    lines = "\n".join(f"  {line}" for line in EXAMPLES[command])
    return f"examples:\n{lines}" + (f"\n\n{extra}" if extra else "")


def _add_sub(subs, name: str, help_text: str, *description: str, extra: str = ""):
    return subs.add_parser(name, help=help_text, description=_paragraphs(*description),
                           epilog=_epilog(name, extra), formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_common(sub, *, out=True, force=True):
    if out:
        sub.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                         help=f"folder of the run folders (default: {DEFAULT_OUT}/)")
    if force:
        sub.add_argument("--force", action="store_true", help="rerun finished runs too (default: skip them)")
    sub.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar on stderr")


def _add_papermill(sub, *, kernel=True):
    from lrlab.sweep import DEFAULT_EXECUTION_TIMEOUT

    if kernel:
        sub.add_argument("-f", "--parameters-file", action="append", default=[], metavar="FILE.yaml",
                         help="a YAML file mapping parameter names to a value or a list of values (repeatable; "
                         "a later file wins); -p on the command line replaces a name's values from a file")
        sub.add_argument("-k", "--kernel", metavar="NAME", default=None,
                         help="the Jupyter kernel to execute with, as papermill's -k (default: the notebook's "
                         "own kernelspec; `jupyter kernelspec list` names those installed)")
    sub.add_argument("--execution-timeout", type=_seconds, default=DEFAULT_EXECUTION_TIMEOUT, metavar="SECONDS",
                     help=f"the longest one cell may run (default: {DEFAULT_EXECUTION_TIMEOUT}, over three times a "
                     "whole chapter's 90 s budget; 0: no limit); a run past it is stopped and reported as timed-out")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``lrlab`` command and its subcommands."""
    import lrlab

    parser = argparse.ArgumentParser(
        prog="lrlab", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_paragraphs("Rerun the learning-rate book's notebooks with papermill: list a notebook's "
                                "parameters, one run, a sweep over a grid of parameters (local process pool or "
                                "Dask), the whole book; collect the results."),
        epilog="examples:\n" + "\n".join(f"  {EXAMPLES[c][0]}" for c in EXAMPLES)
        + "\n\n`lrlab COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"lrlab {lrlab.__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")

    params = _add_sub(subs, "params", "list a notebook's parameters: names, types, defaults, help",
                      "List the parameters NOTEBOOK's cell tagged 'parameters' declares: each name, its type "
                      "(what -p must give), its default and its help text (the comment at the end of its line). "
                      "Like papermill's --help-notebook.")
    params.add_argument("notebook", metavar="NOTEBOOK", help="the notebook (.ipynb)")

    run = _add_sub(subs, "run", "run a notebook once with papermill into a run folder",
                   "Run NOTEBOOK once with papermill, with the given parameters, into OUT/<stem>/<name=value,...>/ "
                   "(the notebook, params.json, run.log, status.json). A run already done there is skipped.",
                   "Every name and value is checked against the notebook's parameters cell before the kernel "
                   "starts. A -f file gives each name one value; -p NAME VALUE replaces a name's value from a file.")
    run.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to run (.ipynb)")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a parameter of the notebook's parameters cell (repeatable); VALUE is parsed like "
                     "papermill's -p and must have the type of the default")
    _add_papermill(run)
    _add_common(run)

    sweep = _add_sub(subs, "sweep", "run a notebook over the Cartesian product of parameter values",
                     "Run NOTEBOOK once per combination of the values, each a papermill run in its own folder "
                     "under OUT/<stem>/. Rerunning the same command resumes: finished runs are skipped, failed, "
                     "timed-out or unfinished ones rerun. Two sweeps over the same OUT share the work: each run "
                     "is claimed by a lock on its folder, and none is done twice.",
                     "Values come from -p and from -f files (each name a value or a list of values); for a "
                     "name in both, the -p values replace the file's. On a Dask cluster (--scheduler), a run "
                     "whose worker dies is given to another worker and run again from the start.",
                     extra=GRID_YAML)
    sweep.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to run (.ipynb)")
    sweep.add_argument("-p", "--parameter", nargs="+", action="append", default=[], metavar=("NAME V1", "V2"),
                       help="NAME V1 [V2 ...]: values of one parameter (repeatable); the sweep runs every "
                       "combination")
    _add_papermill(sweep)
    sweep.add_argument("--workers", type=_positive, default=None, metavar="N",
                       help="runs at a time on this machine (default: the number of cores); "
                       "with --scheduler the cluster's workers decide")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786)")
    where.add_argument("--dask-local", action="store_true",
                       help="run on a Dask LocalCluster of N worker processes instead of a process pool")
    _add_common(sweep)

    collect = _add_sub(subs, "collect", "gather the records of every run into a CSV and a figure",
                       "Read every run folder under DIR and write DIR/records.csv (one row per record, with the "
                       "run's parameters and status) and DIR/summary.png (each numeric record against the swept "
                       "parameter).")
    collect.add_argument("folder", metavar="DIR", help="a folder of run folders (a sweep's --out)")

    book = _add_sub(subs, "book", "execute the book's notebooks in place",
                    "Execute every notebook under PATH (default book/) in place with papermill, in its own "
                    "folder, stripped of volatile metadata afterwards. A notebook that fails or times out keeps "
                    "its previous version. -p reaches only the notebooks that declare NAME; without -p nothing "
                    "is injected.")
    book.add_argument("paths", nargs="*", default=["book"], metavar="PATH", help="notebooks or folders (default: book)")
    book.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                      help="a parameter for every notebook that declares it (repeatable)")
    book.add_argument("--workers", type=_positive, default=None, metavar="N",
                      help="notebooks at a time (default: the number of cores)")
    _add_papermill(book, kernel=False)
    _add_common(book, out=False, force=False)
    return parser


def _values(pairs, single: bool) -> dict[str, list[str]]:
    from lrlab.params import ParameterError

    values: dict[str, list[str]] = {}
    for name, *texts in pairs:
        if name in values:
            raise ParameterError(f"-p {name} is given twice; give all its values after one -p {name}")
        if not texts:
            more = "" if single else " [VALUE ...]"
            raise ParameterError(f"-p {name} has no value; expected -p {name} VALUE{more}")
        values[name] = texts
    return values


def _file_values(args, declared) -> dict[str, list[str]]:
    """Return the values of the -f files, later files winning, after checking that the notebook declares each name."""
    from lrlab._parameters_cell import read_parameters_file
    from lrlab.params import ParameterError

    values: dict[str, list[str]] = {}
    for path in args.parameters_file:
        for name, texts in read_parameters_file(path).items():
            if name not in declared:
                allowed = ", ".join(declared) or "nothing"
                raise ParameterError(f"{path}: {args.notebook} has no parameter {name!r}; its parameters cell "
                                     f"declares {allowed}")
            values[name] = texts
    return values


def _check_kernel(name: str | None) -> None:
    if name is None:
        return
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(name)
    except NoSuchKernel:
        installed = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise FileNotFoundError(f"kernel {name!r} is not installed here; installed kernels: {installed} "
                                "(jupyter kernelspec list)") from None


def _print_result(result) -> None:
    seconds = "     - s" if result.status == "skipped" else f"{result.seconds:6.1f} s"
    line = f"{result.status:<9} {seconds}  {result.label}" + ("  (done earlier)" if result.status == "skipped" else "")
    print(line + (f"  {result.error}" if result.error else ""), flush=True)


def _finish(results) -> int:
    from lrlab.sweep import TIMED_OUT, summary_table

    print(summary_table(results), flush=True)
    return 1 if any(r.status in ("failed", TIMED_OUT) for r in results) else 0


def _forget(jobs) -> None:
    from lrlab.sweep import STATUS

    for job in jobs:
        Path(job.folder, STATUS).unlink(missing_ok=True)


def _run_or_sweep(args, single: bool) -> int:
    from lrlab import sweep
    from lrlab._parameters_cell import declared_parameters, parse_values
    from lrlab.params import ParameterError

    declared = declared_parameters(args.notebook)
    texts = {**_file_values(args, declared), **_values(args.parameter, single)}  # -p replaces a file's values
    if single:
        many = next((name for name, values in texts.items() if len(values) > 1), None)
        if many:
            raise ParameterError(f"lrlab run takes one value per parameter; {many} is given {len(texts[many])} "
                                 "(lrlab sweep runs a list of values)")
    scheduler = None if single else args.scheduler
    if not scheduler:  # a cluster's workers have kernels of their own
        _check_kernel(args.kernel)
    values = parse_values(args.notebook, texts, declared)
    jobs = sweep.sweep_jobs(args.notebook, values, args.out, timeout=args.execution_timeout, kernel=args.kernel)
    if args.force:
        _forget(jobs)
    print(f"{len(jobs)} run{'s' * (len(jobs) != 1)} of {args.notebook} into "
          f"{Path(args.out) / Path(args.notebook).stem}/", flush=True)
    workers = 1 if single else (args.workers or _cores())
    if scheduler or (not single and args.dask_local):
        with sweep.dask_executor(scheduler, workers) as executor:
            results = sweep.execute(jobs, executor, progress=args.progress, on_result=_print_result)
    else:
        with sweep.local_executor(min(workers, len(jobs))) as executor:
            results = sweep.execute(jobs, executor, progress=args.progress, on_result=_print_result)
    return _finish(results)


def _book(args) -> int:
    from lrlab import sweep

    values = {name: texts[0] for name, texts in _values(args.parameter, True).items()}
    jobs = sweep.book_jobs(args.paths, values, timeout=args.execution_timeout)
    print(f"executing {len(jobs)} notebook{'s' * (len(jobs) != 1)} in place", flush=True)
    try:
        with sweep.local_executor(min(args.workers or _cores(), len(jobs))) as executor:
            results = sweep.execute(jobs, executor, progress=args.progress, on_result=_print_result)
    except KeyboardInterrupt:  # the workers are stopped: leave no partial file beside the notebooks
        for job in jobs:
            sweep.remove_partials(job.output)
        raise
    return _finish(results)


def _params(args) -> int:
    from lrlab._parameters_cell import declared_parameters

    declared = declared_parameters(args.notebook)
    if not declared:
        print(f"{args.notebook} has no parameters (no cell tagged 'parameters')")
        return 0
    rows = [("name", "type", "default", "help")]
    rows += [(d.name, d.kind, d.default, d.help) for d in declared.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"{args.notebook}: {len(declared)} parameter{'s' * (len(declared) != 1)}")
    for row in rows:
        print(f"  {row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip())
    print(f"set them with -p NAME VALUE or -f FILE.yaml: lrlab run {args.notebook} -p {next(iter(declared))} VALUE")
    return 0


def _collect(args) -> int:
    from lrlab._sweep_results import collect_runs, records_csv, summary_figure
    from lrlab.notebooks import write_atomically
    from lrlab.sweep import TIMED_OUT

    folder = Path(args.folder)
    frame = collect_runs(folder)
    if frame.empty:
        raise FileNotFoundError(f"no run folders (params.json) under {str(folder)!r}")
    write_atomically(folder / "records.csv", records_csv(frame))
    runs = frame.drop_duplicates("run")
    counts = runs["status"].value_counts()
    counts = [f"{counts[s]} {s}" for s in ("ok", "failed", TIMED_OUT, "unfinished") if s in counts]
    print(f"{len(runs)} run{'s' * (len(runs) != 1)} ({', '.join(counts)}), "
          f"{int(frame['record'].notna().sum())} records -> {folder / 'records.csv'}")
    parameters = [c for c in frame.columns if c not in ("notebook", "run", "status", "seconds", "error",
                                                          "record", "value")]
    figure = folder / "summary.png"
    partial = folder / ".summary.partial.png"
    if summary_figure(frame, partial, parameters):
        os.replace(partial, figure)
        print(f"summary figure -> {figure}")
    else:
        print("no numeric record in the ok runs: no summary figure")
    return 0


def main(argv=None) -> int:
    """Run the ``lrlab`` command with ``argv`` (default: ``sys.argv[1:]``) and return its exit code."""
    from lrlab.params import ParameterError

    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "params":
            return _params(args)
        if args.command == "collect":
            return _collect(args)
        if args.command == "book":
            return _book(args)
        return _run_or_sweep(args, single=args.command == "run")
    except (ParameterError, FileNotFoundError) as exc:
        print(f"lrlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a Dask scheduler that cannot be reached
        print(f"lrlab {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = ("notebooks not finished keep their previous version" if args.command == "book"
                else "finished runs are kept, the same command resumes")
        print(f"\nlrlab {args.command}: interrupted; {kept}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
