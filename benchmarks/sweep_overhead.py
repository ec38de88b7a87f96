"""Measure a sweep with 2 workers against 1, and papermill's per-run overhead; print a table.

Both measurements come from one invocation on this machine, through lrlab's own runner
(:mod:`lrlab.sweep`, a spawned process pool):

* **speed-up**: wall time of the same grid with 1 and 2 workers (pool start-up included,
  each into a fresh output folder), alternated ``--repeat`` times; ``speed-up = T1 / T2``
  with the best time of each;
* **papermill overhead**: for each run of the 1-worker sweep, the wall time of its
  ``papermill.execute_notebook`` call (kernel start, parameter injection, writing the
  notebook, kernel shutdown) minus the time its code cells took (papermill stores each
  cell's duration in the output notebook). Means over the runs; what is left of the
  sweep's wall time per run is lrlab's runner and the process pool.

The default grid runs ``tests/notebooks/busy.ipynb`` (a CPU-bound pure-Python loop, no
framework) for 8 seeds; any notebook and grid can be given::

    .venv/bin/python benchmarks/sweep_overhead.py
    .venv/bin/python benchmarks/sweep_overhead.py --notebook book/01-gradient-step/gradient-step.ipynb \\
        -p initial_lr 0.05 0.1 0.2 0.4

Timings on a shared machine move with its load: report them as measured, with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lrlab import sweep  # noqa: E402
from lrlab._parameters_cell import parse_values  # noqa: E402

DEFAULT_NOTEBOOK = ROOT / "tests" / "notebooks" / "busy.ipynb"
DEFAULT_GRID = [["seed", *map(str, range(8))]]


def timed_sweep(notebook: Path, values: dict, out: Path, workers: int):
    """Return (wall seconds, results) of one sweep of ``values`` with ``workers`` processes."""
    jobs = sweep.sweep_jobs(notebook, values, out)
    t0 = time.perf_counter()
    with sweep.local_executor(workers) as pool:
        results = sweep.execute(jobs, pool, progress=False)
    wall = time.perf_counter() - t0
    failed = [r for r in results if r.status != "ok"]
    if failed:
        raise SystemExit(f"benchmark runs failed: {failed[0].label}: {failed[0].error}")
    return wall, jobs, results


def cell_seconds(notebook: Path) -> float:
    """Return the summed papermill duration of the code cells of an executed notebook."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum(c["metadata"]["papermill"]["duration"] or 0.0 for c in nb["cells"] if c["cell_type"] == "code")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK)
    parser.add_argument("-p", nargs="+", action="append", dest="grid", metavar=("NAME V1", "V2"),
                        help="grid like lrlab sweep's -p (default: -p seed 0 1 … 7)")
    parser.add_argument("--repeat", type=int, default=2, help="sweeps per worker count, alternating (default 2)")
    args = parser.parse_args(argv)
    grid = args.grid or DEFAULT_GRID
    values = parse_values(args.notebook, {name: texts for name, *texts in grid})
    runs = len(sweep.grid(values))
    load = os.getloadavg()[0]
    walls = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="lrlab-bench-") as tmp:
        for rep in range(args.repeat):  # alternate 1 and 2 workers, so that a change of load hits both
            for workers in (1, 2):
                wall, jobs, results = timed_sweep(args.notebook, values, Path(tmp, f"w{workers}-{rep}"), workers)
                walls[workers].append(wall)
                if workers == 1 and wall == min(walls[1]):  # per-run figures from the fastest 1-worker sweep
                    per_run = [r.seconds for r in results]
                    own = [cell_seconds(Path(job.output)) for job in jobs]
    overhead = [w - c for w, c in zip(per_run, own)]
    wall1 = min(walls[1])

    print(f"notebook: {args.notebook.relative_to(ROOT) if args.notebook.is_relative_to(ROOT) else args.notebook}, "
          f"{runs} runs; {os.cpu_count()} cores, load average {load:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end")
    print()
    print(f"{'workers':>7}  {'best wall s':>11}  {'s/run':>6}  {'speed-up':>8}  every repeat (s)")
    for workers, times in walls.items():
        best = min(times)
        print(f"{workers:>7}  {best:11.1f}  {best / runs:6.2f}  {wall1 / best:8.2f}  "
              + ", ".join(f"{t:.1f}" for t in times))
    print()
    mean = statistics.fmean
    print("per run, fastest 1-worker sweep (means)         seconds")
    print(f"sweep wall time / runs                          {wall1 / runs:7.2f}")
    print(f"  papermill.execute_notebook, whole call        {mean(per_run):7.2f}")
    print(f"    the notebook's code cells                   {mean(own):7.2f}")
    print(f"    papermill overhead (call - cells)           {mean(overhead):7.2f}")
    print(f"  lrlab runner and pool (wall/runs - call)      {wall1 / runs - mean(per_run):7.2f}")
    print(f"papermill overhead / the notebook's own time    {mean(overhead) / mean(own):7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
