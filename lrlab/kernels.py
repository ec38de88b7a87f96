"""Run notebooks under another machine's vector kernels, and list the cells whose text changes.

A stored output must come out of the code again on any CPU. CPUs differ in the
vector kernels their libraries pick at run time, and four environment
variables make this machine pick the kernels of an older one (the *emulated*
setting, :data:`EMULATED_KERNELS`):

* ``OPENBLAS_CORETYPE=Sandybridge``: numpy's OpenBLAS uses AVX kernels without FMA;
* ``ATEN_CPU_CAPABILITY=default``: PyTorch's ATen uses its scalar code paths, no AVX2/AVX-512;
* ``MKL_ENABLE_INSTRUCTIONS=SSE4_2``: PyTorch's MKL (its BLAS on x86) uses SSE4.2 kernels;
* ``ONEDNN_MAX_CPU_ISA=SSE41``: oneDNN, in PyTorch and TensorFlow, uses SSE4.1 kernels.

TensorFlow's oneDNN graph rewrites are off in both settings
(``TF_ENABLE_ONEDNN_OPTS=0``, forced by :mod:`lrlab.determinism`); its other
kernels still notice the setting in float32 (a seed-001 Adam run's validation
loss moved by 2.3e-6) but not in float64, the precision lrlab trains in by
default (:class:`lrlab.training.MLPSpec`).

The emulated setting also plays a *caller* whose environment differs from the
author's (:data:`HOSTILE_CALLER`): matplotlib's non-interactive ``Agg`` backend
exported, a ``matplotlibrc`` with another figure size, resolution and style, a
C locale and a narrow terminal. The book's notebooks must print and draw the same
under it (see :func:`lrlab.plots.setup`).

``make test`` runs strict nbval once in each setting. For authors,
``python -m lrlab.kernels NOTEBOOK ...`` (``make crosscheck NOTEBOOKS=...``)
executes each notebook in both settings, side by side, and prints every cell
whose text output differs between the two or from the stored notebook, so a
chapter's author sees a kernel-dependent number before CI does.

Printed wall-clock times (``time: 1.2 s``, :data:`lrlab.notebooks.TIMING`) are
the only text not compared.
"""

from __future__ import annotations

import argparse
import difflib
import os
import pickle
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EMULATED_KERNELS", "HOSTILE_CALLER", "SETTINGS", "CellDifference", "call_with", "crosscheck",
           "setting_environment", "text_outputs"]

#: environment variables that make this machine use another CPU's vector kernels
EMULATED_KERNELS = {
    "OPENBLAS_CORETYPE": "Sandybridge",
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
}

#: a caller whose environment differs from the author's (the matplotlibrc is written on demand)
HOSTILE_CALLER = {
    "MPLBACKEND": "Agg",
    "LC_ALL": "C",
    "LANG": "C",
    "COLUMNS": "37",
    "LINES": "11",
}

#: a user's matplotlibrc that would change every figure if the notebooks did not reset the style
HOSTILE_MATPLOTLIBRC = """\
figure.figsize: 3, 2
figure.dpi: 42
axes.prop_cycle: cycler('color', ['k'])
font.size: 23
savefig.format: svg
"""

#: the two settings ``make test`` runs strict nbval in
SETTINGS = ("native", "emulated")


def setting_environment(setting: str, scratch=None) -> dict:
    """Return the environment variables that select ``setting`` ("native" or "emulated").

    "native" adds nothing. "emulated" is :data:`EMULATED_KERNELS` plus
    :data:`HOSTILE_CALLER`, with ``MPLCONFIGDIR`` pointing at a folder under
    ``scratch`` (default: a temporary folder) that holds :data:`HOSTILE_MATPLOTLIBRC`.

    >>> setting_environment("native")
    {}
    >>> setting_environment("emulated")["ATEN_CPU_CAPABILITY"]
    'default'
    """
    if setting not in SETTINGS:
        from lrlab.params import ParameterError

        raise ParameterError(f"setting = {setting!r} is not allowed; expected one of {', '.join(SETTINGS)}")
    if setting == "native":
        return {}
    folder = Path(scratch if scratch is not None else tempfile.mkdtemp(prefix="lrlab-mpl-")) / "matplotlib"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matplotlibrc").write_text(HOSTILE_MATPLOTLIBRC, encoding="utf-8")
    if not list(folder.glob("fontlist-*.json")):  # build matplotlib's font cache now, not in a notebook's stderr
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True, check=False,
                       env={**os.environ, "MPLCONFIGDIR": str(folder)}, timeout=300)
    return {**EMULATED_KERNELS, **HOSTILE_CALLER, "MPLCONFIGDIR": str(folder)}


def text_outputs(path) -> dict[int, str]:
    """Return ``{cell index: text output}`` for the code cells of the notebook at ``path``, timings blanked.

    Cells are numbered among all cells, as nbval numbers them (``Cell 14``).

    The text is every stream, ``text/plain`` and error line, in order; images are
    compared by presence only (``<image/png>``), as nbval does.
    """
    import nbformat

    from lrlab.notebooks import TIMING, coalesce_streams

    nb = nbformat.read(str(path), as_version=4)
    texts = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        parts = []
        for out in coalesce_streams(cell.get("outputs", [])):
            if out.output_type == "stream":
                parts.append(f"[{out.name}] {''.join(out.text)}")
            elif out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                parts.append("".join(data.get("text/plain", "")) if "text/plain" in data else "")
                parts.extend(f"<{mime}>" for mime in sorted(data) if mime.startswith("image/"))
            elif out.output_type == "error":
                parts.append(f"[error] {out.ename}: {out.evalue}")
        texts[index] = TIMING.sub("time: TIME", "\n".join(parts))
    return texts


_CALL = """\
import importlib, pickle, sys
with open(sys.argv[1], "rb") as f:
    target, args, kwargs = pickle.load(f)
module, _, name = target.partition(":")
result = getattr(importlib.import_module(module), name)(*args, **kwargs)
with open(sys.argv[1], "wb") as f:
    pickle.dump(result, f)
"""


def call_with(env: dict, target: str, *args, timeout: float = 300, **kwargs):
    """Return ``target(*args, **kwargs)`` computed in a fresh Python process with ``env`` added to the environment.

    ``target`` names an importable function as ``"module:function"``; arguments
    and result travel pickled. A framework reads its kernel settings when it is
    imported, so this is how one notebook shows a result under two settings,
    whatever setting the notebook itself runs in (chapter 1, E004-4)::

        call_with({"ATEN_CPU_CAPABILITY": "default"}, "lrlab.torch:descend", loss, 5.0, 0.1, 40)

    A failure in the child raises ``RuntimeError`` with the child's last error line.
    """
    with tempfile.TemporaryDirectory(prefix="lrlab-call-") as tmp:
        exchange = Path(tmp) / "call.pickle"
        exchange.write_bytes(pickle.dumps((target, args, kwargs)))
        done = subprocess.run([sys.executable, "-c", _CALL, str(exchange)], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no error output)"])[-1]
            raise RuntimeError(f"{target} failed under {env}: {last}")
        return pickle.loads(exchange.read_bytes())


@dataclass(frozen=True)
class CellDifference:
    """A code cell whose text differs between the stored notebook and a run in one setting."""

    notebook: str
    cell: int  # index among all cells, as nbval counts them
    setting: str
    diff: str


def _execute(notebook: Path, out: Path, setting: str, timeout: int) -> None:
    env = {**os.environ, **setting_environment(setting, scratch=out.parent)}
    env.pop("MPLBACKEND", None) if setting == "native" else None
    command = [sys.executable, "-m", "papermill", str(notebook), str(out), "--cwd", str(notebook.parent),
               "--no-progress-bar", "--execution-timeout", str(timeout)]
    subprocess.run(command, env=env, check=False, capture_output=True, timeout=timeout * 20)


def crosscheck(notebooks, timeout: int = 300, keep=None) -> list[CellDifference]:
    """Execute each notebook in both :data:`SETTINGS` (two at a time) and return the differing cells.

    Each run is compared with the stored notebook; a cell that differs in both
    settings was made on another machine or by other code, a cell that differs in
    one setting depends on the CPU's kernels or on the caller's environment.
    The executed notebooks are kept under ``keep/<setting>/`` when ``keep`` is given.
    """
    differences = []
    with tempfile.TemporaryDirectory(prefix="lrlab-crosscheck-") as scratch:
        tmp = keep if keep is not None else scratch
        for notebook in map(Path, notebooks):
            runs = {s: Path(tmp) / s / notebook.name for s in SETTINGS}
            for path in runs.values():
                path.parent.mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(len(SETTINGS)) as pool:
                list(pool.map(_execute, [notebook] * len(runs), runs.values(), runs, [timeout] * len(runs)))
            stored = text_outputs(notebook)
            for setting, path in runs.items():
                fresh = text_outputs(path) if path.exists() else {-1: "[error] the run wrote no notebook"}
                for index in sorted(set(stored) | set(fresh)):
                    old, new = stored.get(index, ""), fresh.get(index, "")
                    if old != new:
                        diff = "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines(), "stored",
                                                              setting, n=0, lineterm=""))
                        differences.append(CellDifference(str(notebook), index, setting, diff))
    return differences


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lrlab.kernels",
        description="Execute notebooks under this machine's kernels and under the emulated other machine; "
                    "list the code cells whose text differs from the stored notebook.",
        epilog="example: python -m lrlab.kernels book/09-momentum/momentum.ipynb\n"
               "         python -m lrlab.kernels --env emulated   # the emulated setting, as K=V words")
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--env", choices=SETTINGS, help="print the setting's environment variables and exit")
    parser.add_argument("--timeout", type=int, default=300, help="seconds one cell may run (default 300)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the executed notebooks in DIR/<setting>/")
    args = parser.parse_args(argv)
    if args.env:
        scratch = Path(".lrlab-tmp").resolve() if args.env == "emulated" else None
        print(" ".join(f"{k}={v}" for k, v in setting_environment(args.env, scratch=scratch).items()))
        return 0
    notebooks = [n for path in args.notebooks
                 for n in (sorted(path.glob("**/*.ipynb")) if path.is_dir() else [path])
                 if ".ipynb_checkpoints" not in n.parts]
    differences = crosscheck(notebooks, timeout=args.timeout, keep=args.keep)
    for d in differences:
        print(f"{d.notebook} cell {d.cell} differs ({d.setting}):\n{d.diff}\n")
    counted = {(d.notebook, d.cell) for d in differences}
    print(f"{len(counted)} code cell(s) differ in {len({n for n, _ in counted})} of {len(notebooks)} notebook(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
