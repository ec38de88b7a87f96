"""The ``lrlab`` command: papermill batch reruns of the book's notebooks.

::

    lrlab run NOTEBOOK [-p NAME VALUE]... [--out DIR]
    lrlab sweep NOTEBOOK [-p NAME V1 V2 ...]... [--workers N] [--scheduler ADDRESS | --dask-local] [--out DIR]
    lrlab collect DIR
    lrlab book [PATH ...] [-p NAME VALUE]... [--workers N]

``run`` and ``sweep`` write one run folder per grid point (layout in
:mod:`lrlab.sweep`) and resume: a finished run is skipped, a failed or unfinished
one reruns. ``book`` executes notebooks in place. Every command checks all names
and values before the first run starts, prints one line per finished run and a
summary table, and exits 1 if any run failed (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["build_parser", "main"]

DEFAULT_OUT = "runs"


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


def _add_common(sub, *, out=True, force=True):
    if out:
        sub.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                         help=f"folder of the run folders (default: {DEFAULT_OUT}/)")
    if force:
        sub.add_argument("--force", action="store_true", help="rerun finished runs too (default: skip them)")
    sub.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar on stderr")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``lrlab`` command and its subcommands."""
    import lrlab

    parser = argparse.ArgumentParser(
        prog="lrlab", description="Rerun the learning-rate book's notebooks with papermill: one run, a sweep "
        "over a grid of parameters (local process pool or Dask), the whole book; collect the results.")
    parser.add_argument("--version", action="version", version=f"lrlab {lrlab.__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = subs.add_parser("run", help="run a notebook once with papermill into a run folder",
                          description="Run NOTEBOOK once with papermill, with the given parameters, into "
                          "OUT/<stem>/<name=value,...>/ (the notebook, params.json, run.log, status.json). "
                          "A run already done there is skipped.")
    run.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to run (.ipynb)")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a parameter of the notebook's parameters cell (repeatable); VALUE is parsed like "
                     "papermill's -p and must have the type of the default")
    _add_common(run)

    sweep = subs.add_parser("sweep", help="run a notebook over the Cartesian product of parameter values",
                            description="Run NOTEBOOK once per combination of the values, each a papermill "
                            "run in its own folder under OUT/<stem>/. Rerunning the same command resumes: "
                            "finished runs are skipped, failed or unfinished ones rerun.")
    sweep.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to run (.ipynb)")
    sweep.add_argument("-p", "--parameter", nargs="+", action="append", default=[], metavar=("NAME V1", "V2"),
                       help="NAME V1 [V2 ...]: values of one parameter (repeatable); the sweep runs every "
                       "combination")
    sweep.add_argument("--workers", type=_positive, default=None, metavar="N",
                       help=f"runs at a time on this machine (default: the number of cores, {_cores()}); "
                       "with --scheduler the cluster's workers decide")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786)")
    where.add_argument("--dask-local", action="store_true",
                       help="run on a Dask LocalCluster of N worker processes instead of a process pool")
    _add_common(sweep)

    collect = subs.add_parser("collect", help="gather the records of every run into a CSV and a figure",
                              description="Read every run folder under DIR and write DIR/records.csv (one row "
                              "per record, with the run's parameters and status) and DIR/summary.png (each "
                              "numeric record against the swept parameter).")
    collect.add_argument("folder", metavar="DIR", help="a folder of run folders (a sweep's --out)")

    book = subs.add_parser("book", help="execute the book's notebooks in place",
                           description="Execute every notebook under PATH (default book/) in place with "
                           "papermill, in its own folder, stripped of volatile metadata afterwards. A notebook "
                           "that fails keeps its previous version. -p reaches only the notebooks that declare "
                           "NAME; without -p nothing is injected.")
    book.add_argument("paths", nargs="*", default=["book"], metavar="PATH", help="notebooks or folders (default: book)")
    book.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                      help="a parameter for every notebook that declares it (repeatable)")
    book.add_argument("--workers", type=_positive, default=None, metavar="N",
                      help=f"notebooks at a time (default: the number of cores, {_cores()})")
    _add_common(book, out=False, force=False)
    return parser


def _values(pairs, single: bool) -> dict[str, list[str]]:
    from lrlab.params import ParameterError

    values: dict[str, list[str]] = {}
    for name, *texts in pairs:
        if name in values:
            raise ParameterError(f"-p {name} is given twice; give all its values after one -p {name}")
        if not texts:
            raise ParameterError(f"-p {name} has no value; expected -p {name} VALUE" + ("" if single else " [VALUE ...]"))
        values[name] = texts
    return values


def _print_result(result) -> None:
    seconds = "     - s" if result.status == "skipped" else f"{result.seconds:6.1f} s"
    line = f"{result.status:<7} {seconds}  {result.label}" + ("  (done earlier)" if result.status == "skipped" else "")
    print(line + (f"  {result.error}" if result.error else ""), flush=True)


def _finish(results) -> int:
    from lrlab.sweep import summary_table

    print(summary_table(results), flush=True)
    return 1 if any(r.status == "failed" for r in results) else 0


def _forget(jobs) -> None:
    from lrlab.sweep import STATUS

    for job in jobs:
        Path(job.folder, STATUS).unlink(missing_ok=True)


def _run_or_sweep(args, single: bool) -> int:
    from lrlab import sweep
    from lrlab.parameters_cell import parse_values

    values = parse_values(args.notebook, _values(args.parameter, single))
    jobs = sweep.sweep_jobs(args.notebook, values, args.out)
    if args.force:
        _forget(jobs)
    print(f"{len(jobs)} run{'s' * (len(jobs) != 1)} of {args.notebook} into "
          f"{Path(args.out) / Path(args.notebook).stem}/", flush=True)
    workers = 1 if single else (args.workers or _cores())
    if not single and (args.scheduler or args.dask_local):
        with sweep.dask_executor(args.scheduler, workers) as executor:
            results = sweep.execute(jobs, executor, progress=args.progress, on_result=_print_result)
    else:
        with sweep.local_executor(min(workers, len(jobs))) as executor:
            results = sweep.execute(jobs, executor, progress=args.progress, on_result=_print_result)
    return _finish(results)


def _book(args) -> int:
    from lrlab import sweep

    values = {name: texts[0] for name, texts in _values(args.parameter, True).items()}
    jobs = sweep.book_jobs(args.paths, values)
    print(f"executing {len(jobs)} notebook{'s' * (len(jobs) != 1)} in place", flush=True)
    try:
        with sweep.local_executor(min(args.workers or _cores(), len(jobs))) as executor:
            results = sweep.execute(jobs, executor, progress=args.progress, on_result=_print_result)
    except KeyboardInterrupt:  # the workers are stopped: leave no partial file beside the notebooks
        for job in jobs:
            sweep.remove_partials(job.output)
        raise
    return _finish(results)


def _collect(args) -> int:
    from lrlab.sweep_results import collect_runs, records_csv, summary_figure
    from lrlab.notebooks import write_atomically

    folder = Path(args.folder)
    frame = collect_runs(folder)
    if frame.empty:
        raise FileNotFoundError(f"no run folders (params.json) under {str(folder)!r}")
    write_atomically(folder / "records.csv", records_csv(frame))
    runs = frame.drop_duplicates("run")
    counts = runs["status"].value_counts()
    counts = [f"{counts[s]} {s}" for s in ("ok", "failed", "unfinished") if s in counts]
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
        if args.command == "collect":
            return _collect(args)
        if args.command == "book":
            return _book(args)
        return _run_or_sweep(args, single=args.command == "run")
    except (ParameterError, FileNotFoundError) as exc:
        print(f"lrlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = ("notebooks not finished keep their previous version" if args.command == "book"
                else "finished runs are kept, the same command resumes")
        print(f"\nlrlab {args.command}: interrupted; {kept}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
