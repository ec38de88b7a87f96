"""The claims page's figure: a colour grid of verdict words, parts down, frameworks (per regime) across.

The PNG carries a digest of what it shows in a text chunk; :func:`write_grid`
redraws only when the digest changes, so a rerun on another machine (another
FreeType, another libpng) leaves the committed image alone, and the test of the
page compares digests, not pixels. Bump :data:`GRID_VERSION` when the drawing
changes.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

__all__ = ["COLOURS", "GRID_VERSION", "digest", "draw", "stored_digest", "write_grid"]

#: bump when the drawing code changes, so that the committed image is redrawn
GRID_VERSION = 1
#: one colour per verdict word (Okabe & Ito's colour-blind-safe palette), and "missing" white
COLOURS = {
    "holds": "#009E73",
    "holds only when": "#F0E442",
    "does not hold": "#D55E00",
    "inconclusive": "#BBBBBB",
    "not testable here": "#56B4E9",
    "missing": "#FFFFFF",
    "not run": "#F4F4F4",
}
#: the word as a cell of the grid prints it
_SHORT = {"holds": "holds", "holds only when": "only when", "does not hold": "does not hold",
          "inconclusive": "inconclusive", "not testable here": "not testable", "missing": "missing",
          "not run": ""}
_KEY = "Comment"
_PREFIX = "lrlab.claims grid "


def digest(rows, columns, cells) -> str:
    """Return a hex digest of what the grid shows (row labels, column labels, cells, :data:`GRID_VERSION`)."""
    blob = json.dumps({"version": GRID_VERSION, "rows": list(rows), "columns": list(columns),
                       "cells": [[list(c) for c in row] for row in cells]}, ensure_ascii=True, sort_keys=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def draw(rows, columns, cells, groups=()) -> bytes:
    """Return the PNG of the grid.

    ``rows``: row labels (one per claim part); ``columns``: column labels;
    ``cells[i][j]``: ``(word, framework_free)`` with word one of :data:`COLOURS`;
    ``groups``: indices of the rows that start a new claim (a rule above them).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    n, m = len(rows), len(columns)
    # in inches: row labels, one column per framework and regime, the header above, the legend below
    left, col, right, top, row_h, bottom = 3.7, 1.1, 0.15, 0.5, 0.24, 0.9
    width, height = left + col * m + right, top + row_h * n + bottom
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_axes((left / width, bottom / height, col * m / width, row_h * n / height))
    for i, row in enumerate(cells):
        for j, (word, free) in enumerate(row):
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=COLOURS[word], edgecolor="#555555", linewidth=0.5))
            ax.text(j + 0.5, i + 0.5, _SHORT[word] + (" *" if free else ""), ha="center", va="center",
                    fontsize=7, color="#000000")
    for i in groups:
        if i:
            ax.axhline(i, color="#000000", linewidth=1.2)
    ax.set_xlim(0, m)
    ax.set_ylim(n, 0)
    ax.set_xticks([j + 0.5 for j in range(m)], list(columns), fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([i + 0.5 for i in range(n)], list(rows), fontsize=7)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [Patch(facecolor=c, edgecolor="#555555", label=w if w != "not run" else "not run in this regime")
               for w, c in COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False,
               title="* one framework-free verdict fills both cells", title_fontsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None, _KEY: _PREFIX + digest(rows, columns, cells)})
    return buffer.getvalue()


def stored_digest(path) -> str | None:
    """Return the digest stored in the PNG at ``path`` (None if it is absent or carries none)."""
    path = Path(path)
    if not path.exists():
        return None
    from PIL import Image

    with Image.open(path) as image:
        text = image.info.get(_KEY, "")
    return text[len(_PREFIX):] if isinstance(text, str) and text.startswith(_PREFIX) else None


def write_grid(path, rows, columns, cells, groups=()) -> bool:
    """Draw the grid into ``path`` unless the image there already shows it; return whether it was written."""
    path = Path(path)
    if stored_digest(path) == digest(rows, columns, cells):
        return False
    data = draw(rows, columns, cells, groups)
    tmp = path.with_name(f".{path.name}.tmp")  # write, then rename: a reader never sees half an image
    tmp.write_bytes(data)
    tmp.replace(path)
    return True
