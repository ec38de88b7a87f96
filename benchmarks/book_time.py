"""Time the book with ``fit_many``, and estimate it with sequential ``fit`` calls instead (issue 5, item 4).

Each chapter notebook is executed by papermill into a temporary folder (the book's files are
not touched), in a kernel whose IPython start-up file wraps :func:`lrlab.many.run_many`, the
loop every ``fit_many`` call of both backends goes through. Each call is timed; then
``--sample`` of its M configurations (evenly spread) are trained with the backend's ``fit``,
one after another, from the same initial weights, batches and optimizer — what the chapter
would run without ``fit_many`` — and ``M × their mean time`` is the call's sequential
estimate. The sampling is timed too and taken out of the notebook's time.

Per notebook: ``after_s`` (papermill's wall time without the sampling), ``fit_many_s`` (time
inside the fit_many loops), ``sequential_s`` (the estimate for the same trainings as separate
fits) and ``before_s = after_s − fit_many_s + sequential_s``. Printed as a table, written as
CSV (``--csv``, default ``bench-results/book_time.csv``). Run it on a quiet machine: it
executes every chapter once, plus the sampled fits.

    .venv/bin/python benchmarks/book_time.py                   # every chapter under book/
    .venv/bin/python benchmarks/book_time.py book/05-lr-grids   # some of them
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

#: the IPython start-up file of the timing kernels (see the module docstring)
STARTUP = r'''
import json, os, time
import numpy as np
import lrlab.many as _many

_original = _many.run_many


def _timed_run_many(trainer, plan):
    start = time.perf_counter()
    history = _original(trainer, plan)
    many_s = time.perf_counter() - start
    import importlib
    backend = importlib.import_module(type(trainer).__module__.replace("lrlab._", "lrlab.").removesuffix("_many"))
    spec, fit = plan.spec, plan.fit
    picked = np.unique(np.linspace(0, plan.size - 1, min(plan.size, int(os.environ["BOOK_TIME_SAMPLE"])))
                       .round().astype(int))
    start = time.perf_counter()
    for m in picked:
        model = backend.mlp(spec.sizes, spec.activation, spec.output_activation, dtype=spec.dtype,
                            weights=[(k[m], b[m]) for k, b in plan.init])
        backend.fit(model, (fit.x, fit.y), None if fit.val is None else tuple(np.asarray(a) for a in fit.val),
                    optimizer=plan.optimizers[m], loss=fit.loss, metric=fit.metric, epochs=fit.epochs,
                    batch_size=fit.batch_size, schedule_unit=fit.schedule_unit, seed=fit.seed)
    sample_s = time.perf_counter() - start
    with open(os.environ["BOOK_TIME_LOG"], "a") as log:
        log.write(json.dumps({"backend": backend.FRAMEWORK, "models": plan.size, "epochs": fit.epochs,
                              "rows": len(fit.x), "batch_size": fit.batch_size, "fit_many_s": many_s,
                              "sampled": len(picked), "sample_s": sample_s,
                              "sequential_s": sample_s / len(picked) * plan.size}) + "\n")
    return history


_many.run_many = _timed_run_many
'''


def notebooks(paths) -> list[Path]:
    """Return the chapter notebooks under ``paths`` (folders or .ipynb files), sorted."""
    found = []
    for path in map(Path, paths):
        found += [path] if path.suffix == ".ipynb" else sorted(path.glob("*/*.ipynb") if path == ROOT / "book"
                                                                else path.glob("*.ipynb"))
    return [p for p in found if p.parent.name[:2].isdigit() and not p.parent.name.startswith("9")]


def time_notebook(notebook: Path, work: Path, sample: int) -> dict:
    """Return the timings of one papermill execution of ``notebook`` with the fit_many wrapper."""
    log = work / f"{notebook.stem}.jsonl"
    env = dict(os.environ, IPYTHONDIR=str(work / "ipython"), BOOK_TIME_LOG=str(log),
               BOOK_TIME_SAMPLE=str(sample), PYTHONPATH=str(ROOT))
    papermill = Path(sys.executable).parent / "papermill"
    start = time.perf_counter()
    done = subprocess.run([str(papermill), str(notebook), str(work / notebook.name), "--cwd", str(notebook.parent),
                           "--log-level", "ERROR"], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    sample_s = sum(c["sample_s"] for c in calls)
    many_s = sum(c["fit_many_s"] for c in calls)
    sequential_s = sum(c["sequential_s"] for c in calls)
    after = wall - sample_s
    return {"notebook": str(notebook.relative_to(ROOT)), "ok": done.returncode == 0, "fit_many_calls": len(calls),
            "models": sum(c["models"] for c in calls), "after_s": after, "fit_many_s": many_s,
            "sequential_s": sequential_s, "before_s": after - many_s + sequential_s,
            "error": "" if done.returncode == 0 else done.stderr.strip().splitlines()[-1][:200]}


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "book")])
    parser.add_argument("--sample", type=int, default=3, help="configurations of each fit_many call refit with fit")
    parser.add_argument("--csv", default=str(ROOT / "bench-results" / "book_time.csv"))
    args = parser.parse_args(argv)
    if args.sample < 1:
        parser.error("--sample must be >= 1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="book-time-") as tmp:
        work = Path(tmp)
        startup = work / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-time-fit-many.py").write_text(STARTUP)
        for notebook in notebooks(args.paths):
            rows.append(time_notebook(notebook.resolve(), work, args.sample))
            r = rows[-1]
            print(f"{r['notebook']}: {r['after_s']:.1f} s with fit_many ({r['fit_many_calls']} calls, "
                  f"{r['fit_many_s']:.1f} s inside), ~{r['before_s']:.1f} s with sequential fits"
                  + ("" if r["ok"] else f"  FAILED: {r['error']}"), flush=True)
    table = pd.DataFrame(rows)
    total = table[["after_s", "fit_many_s", "sequential_s", "before_s"]].sum()
    print(f"\nbook: {total.after_s:.0f} s with fit_many; ~{total.before_s:.0f} s with sequential fits "
          f"(fit_many loops {total.fit_many_s:.0f} s, the same trainings as separate fits ~{total.sequential_s:.0f} s)")
    path = Path(args.csv)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    print(f"CSV: {path}")
    return table


if __name__ == "__main__":
    main()
