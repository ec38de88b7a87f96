"""The results of a sweep's run folders: one table of records and one summary figure.

``lrlab collect DIR`` calls :func:`collect_runs` and :func:`summary_figure`. The run
folder layout is described in :mod:`lrlab.sweep`.
"""

from __future__ import annotations

import json
from pathlib import Path

from lrlab.sweep import PARAMS, STATUS

__all__ = ["collect_runs", "records_csv", "summary_figure"]

_BASE_COLUMNS = ("notebook", "run", "status", "seconds", "error", "record", "value")


def _cell(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def collect_runs(folder):
    """Return one row per record of every run folder under ``folder`` as a DataFrame.

    Columns: ``notebook`` (stem), ``run`` (folder relative to ``folder``), one column per
    parameter (``param_<name>`` where a name clashes with these columns), ``status``
    (``ok``, ``failed`` or ``unfinished``), ``seconds``, ``error``, ``record`` and ``value``
    (as recorded: numbers, strings, lists, dicts). A run without records gives one row with
    an empty record.
    """
    import pandas as pd

    from lrlab.records import collect

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {str(folder)!r} does not exist")
    rows, names = [], []
    for params_path in sorted(folder.rglob(PARAMS)):
        run = params_path.parent
        parameters = json.loads(params_path.read_text(encoding="utf-8"))["parameters"]
        try:
            status = json.loads((run / STATUS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            status = {"status": "unfinished"}
        base = {"notebook": run.parent.name, "run": run.relative_to(folder).as_posix()}
        for name, value in parameters.items():
            column = f"param_{name}" if name in _BASE_COLUMNS else name
            base[column] = _cell(value)
            names.append(column) if column not in names else None
        base.update(status=status["status"], seconds=status.get("seconds"), error=status.get("error", ""))
        output = run / status.get("output", "")
        records = collect(output) if status["status"] != "unfinished" and output.is_file() else None
        if records is None or records.empty:
            rows.append({**base, "record": None, "value": None})
        else:
            rows.extend({**base, "record": r.name, "value": r.value} for r in records.itertuples())
    columns = ["notebook", "run", *names, "status", "seconds", "error", "record", "value"]
    return pd.DataFrame(rows, columns=columns)


def records_csv(frame) -> str:
    """Return the frame as CSV text, lists and dicts written as JSON."""
    frame = frame.copy()
    frame["value"] = frame["value"].map(_cell)
    return frame.to_csv(index=False)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric(series) -> bool:
    return all(_is_number(v) for v in series)


def _scalars(frame):
    """Return the frame with each dict record split into ``name.key`` rows, one per numeric field."""
    import pandas as pd

    rows = []
    for row in frame.to_dict(orient="records"):
        if isinstance(row["value"], dict):
            rows.extend({**row, "record": f"{row['record']}.{k}", "value": v}
                        for k, v in row["value"].items() if _is_number(v))
        else:
            rows.append(row)
    return pd.DataFrame(rows, columns=frame.columns)


def summary_figure(frame, path, parameters) -> bool:
    """Draw each numeric record of the ok runs against the swept parameter into ``path`` (PNG).

    A dict record contributes its numeric fields, as ``name.key``.
    The x axis is the numeric parameter with the most distinct values (else the run);
    the other varying parameters give one line each. Returns False when nothing is numeric.
    """
    from matplotlib.figure import Figure

    ok = _scalars(frame[(frame["status"] == "ok") & frame["record"].notna()])
    panels = [(key, group) for key, group in ok.groupby(["notebook", "record"], sort=True) if _numeric(group["value"])]
    if not panels:
        return False
    panels = panels[:12]
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    for ax, ((notebook, record), group) in zip(fig.subplots(rows, cols, squeeze=False).ravel(), panels):
        runs = frame[frame["notebook"] == notebook]  # the parameters swept over this notebook's runs
        varying = [p for p in parameters if p in runs and runs[p].nunique() > 1]
        numeric = [p for p in varying if _numeric(group[p])]
        x = max(numeric, key=lambda p: runs[p].nunique()) if numeric else None
        others = [p for p in varying if p != x]
        lines = group.groupby(others, sort=True, dropna=False) if others else [((), group)]
        for key, line in lines:
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{p}={k}" for p, k in zip(others, key)) or None
            line = line.sort_values(x) if x else line
            xs = line[x] if x else line["run"].map(lambda r: r.rsplit("/", 1)[-1])
            ax.plot(list(xs), list(line["value"]), marker="o", label=label)
        if x:  # every panel spans the whole sweep, even where a record exists for some runs only
            lo, hi = float(runs[x].min()), float(runs[x].max())
            if lo > 0 and hi >= 20 * lo:
                ax.set_xscale("log")
                ax.set_xlim(lo / 1.2, hi * 1.2)
            else:
                ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_xlabel(x or "run")
        ax.set_ylabel(record)
        ax.set_title(f"{notebook}: {record}", fontsize="medium")
        if others:
            ax.legend(fontsize="small")
        if not x:
            ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    for ax in fig.axes[len(panels):]:
        ax.set_visible(False)
    fig.savefig(path, dpi=100)
    return True
