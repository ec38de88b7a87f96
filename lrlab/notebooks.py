"""Stored notebooks without volatile metadata, so that a rerun that changes nothing leaves git clean.

papermill and Jupyter stamp every execution with times and durations; those
change on every run although the outputs do not. :func:`strip_volatile`
removes them (and only them) from an executed notebook, in place::

    python -m lrlab.notebooks book/01-gradient-step/gradient-step.ipynb

The notebooks also print their own wall-clock times (``time: 12.3 s``), the one
printed value that honestly differs from run to run. :func:`same_but_timings`
tells whether a fresh execution differs from the stored notebook only there;
``lrlab book`` then keeps the stored file, so rerunning an unchanged book leaves
``git status`` clean. nbval ignores the same pattern (``tests/sanitize.cfg``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

__all__ = ["MAX_CHANGED_PIXELS", "TIMING", "VOLATILE_CELL_KEYS", "VOLATILE_NOTEBOOK_KEYS", "coalesce_streams",
           "page_parser", "same_but_noise", "same_but_timings", "stale_page", "strip_volatile", "title",
           "write_atomically"]

#: the share of a figure's pixels that may change while it still counts as the same figure
#: (a curve point moved by another CPU's rounding; a restyled or replotted figure changes far more)
MAX_CHANGED_PIXELS = 0.01

#: keys of ``metadata.papermill`` that change from run to run
VOLATILE_NOTEBOOK_KEYS = ("start_time", "end_time", "duration", "input_path", "output_path",
                          "environment_variables", "version")
#: cell metadata that only records when and how long a cell ran
VOLATILE_CELL_KEYS = ("execution", "papermill")
#: a printed wall-clock time, e.g. ``time: 12.3 s`` or ``time: 850 ms`` (the nbval sanitizer's pattern)
TIMING = re.compile(r"time: \d+(\.\d+)? ?m?s")


def write_atomically(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file, and a killed writer leaves the old
    file (or none) behind.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def title(path) -> str:
    """Return the text of the first Markdown heading of the notebook at ``path`` (its file stem if none)."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def page_parser(prog: str, description: str, check: str, book: Path):
    """Return the argument parser of a generated page's command (``python -m lrlab.claims``, ``lrlab.examples``).

    Options: ``--book`` (the book folder, default ``book``) and ``--check``
    (write nothing; ``check`` says when the command then exits 1).
    """
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--book", default=str(book), help="the book folder (default: the repository's book/)")
    parser.add_argument("--check", action="store_true", help=f"write nothing; exit 1 if {check}")
    return parser


def stale_page(path: Path, expected: str, command: str) -> bool:
    """Return whether the page at ``path`` is missing or differs from ``expected``; if so, say which command remakes it.

    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "page.md"
    >>> stale_page(page, "text", "python -m lrlab.claims")
    True
    >>> page.write_text("text", encoding="utf-8") and stale_page(page, "text", "python -m lrlab.claims")
    False
    """
    stale = not path.exists() or path.read_text(encoding="utf-8") != expected
    if stale:
        print(f"{path} is stale: run {command}", file=sys.stderr)
    return stale


def coalesce_streams(outputs: list) -> list:
    """Return ``outputs`` with each run of adjacent same-name stream outputs merged into one.

    How a kernel splits printed text into stream messages depends on when its
    buffer is flushed, so ``print`` can store one output or several for the same
    text; merged, the stored notebook no longer depends on that timing.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def strip_volatile(path) -> bool:
    """Remove timestamps and durations from the notebook at ``path``; return whether it changed.

    Also drops empty ``tags`` lists (papermill adds them, jupytext removes them)
    and merges adjacent stream outputs (:func:`coalesce_streams`). The notebook is
    rewritten atomically in nbformat's own layout (1-space indent, sorted keys,
    trailing newline), the layout Jupyter and jupytext write.
    """
    import nbformat

    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = nbformat.reads(before, as_version=4)
    papermill = nb.metadata.get("papermill")
    if papermill is not None:
        for key in VOLATILE_NOTEBOOK_KEYS:
            papermill.pop(key, None)
        if not papermill.get("parameters") and not papermill.get("exception"):
            nb.metadata.pop("papermill")
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:  # papermill adds empty tags; jupytext drops them
            cell.metadata.pop("tags")
        if "outputs" in cell:
            cell.outputs = coalesce_streams(cell.outputs)
    after = nbformat.writes(nb) + "\n"
    if after == before:
        return False
    write_atomically(path, after)
    return True


def same_but_timings(stored, fresh) -> bool:
    """Return whether the notebooks at ``stored`` and ``fresh`` differ at most in printed timings.

    Both files are compared as text after every :data:`TIMING` match is
    replaced by one placeholder; a missing ``stored`` file is never the same.
    """
    stored, fresh = Path(stored), Path(fresh)
    if not stored.exists():
        return False
    blank = lambda text: TIMING.sub("time: TIME", text)  # noqa: E731
    return blank(stored.read_text(encoding="utf-8")) == blank(fresh.read_text(encoding="utf-8"))


def _skeleton(nb) -> tuple[str, list[str]]:
    """Return the notebook as JSON with timings blanked and images replaced by a mark, and its images."""
    images = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            for mime in sorted(out.get("data", {})):
                if mime.startswith("image/"):
                    images.append((mime, out["data"][mime]))
                    out["data"][mime] = "<image>"
    return TIMING.sub("time: TIME", json.dumps(nb, sort_keys=True)), images


def _look_the_same(a: tuple, b: tuple, max_changed: float) -> bool:
    """Whether two ``(mime, data)`` images differ in at most ``max_changed`` of their pixels."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    if a == b:
        return True
    if a[0] != b[0] or a[0] != "image/png":
        return False
    pixels = [np.asarray(Image.open(io.BytesIO(base64.b64decode("".join(d)))).convert("RGBA"), dtype=np.int16)
              for _, d in (a, b)]
    if pixels[0].shape != pixels[1].shape:
        return False
    changed = (np.abs(pixels[0] - pixels[1]).max(axis=-1) > 8).mean()
    return bool(changed <= max_changed)


def same_but_noise(stored, fresh, max_changed_pixels: float = MAX_CHANGED_PIXELS) -> bool:
    """Return whether ``fresh`` differs from ``stored`` only in printed timings and in figure pixels.

    Everything but the figures must be equal once timings are blanked (as in
    :func:`same_but_timings`); each figure may differ in at most
    ``max_changed_pixels`` of its pixels (a channel moved by more than 8 of 255),
    which is what another CPU's rounding does to a curve, while a restyled or
    replotted figure changes far more. ``lrlab book`` keeps the stored notebook
    when this holds, so an unchanged rerun on another machine leaves git clean.
    """
    stored, fresh = Path(stored), Path(fresh)
    if not stored.exists():
        return False
    (a, images_a), (b, images_b) = (_skeleton(json.loads(p.read_text(encoding="utf-8"))) for p in (stored, fresh))
    return a == b and len(images_a) == len(images_b) and all(
        _look_the_same(x, y, max_changed_pixels) for x, y in zip(images_a, images_b))


def main(argv=None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m lrlab.notebooks NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    for p in paths:
        if strip_volatile(p):
            print(f"stripped volatile metadata: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
