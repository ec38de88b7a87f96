"""Same book on every machine: the emulated kernel setting, robust printing, figure noise, the caller's environment."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrlab import kernels, notebooks, report, sensitivity

ROOT = Path(__file__).resolve().parent.parent


def test_emulated_setting_changes_the_kernels_of_numpy_torch_and_onednn(tmp_path):
    env = kernels.setting_environment("emulated", scratch=tmp_path)
    assert {"OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"} <= set(env)
    assert env["MPLBACKEND"] == "Agg" and Path(env["MPLCONFIGDIR"], "matplotlibrc").exists()
    assert kernels.setting_environment("native") == {}
    with pytest.raises(ValueError, match="setting = 'other'"):
        kernels.setting_environment("other")


def test_the_makefile_runs_nbval_in_both_settings():
    makefile = (ROOT / "Makefile").read_text()
    assert "nbval: nbval-native nbval-emulated" in makefile
    assert "python -m lrlab.kernels --env emulated" in makefile
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{k}`" in readme for k in kernels.EMULATED_KERNELS)


def test_pytorch_uses_the_capability_it_is_given():
    """The emulated setting truly reaches PyTorch (a fresh process reads ATEN_CPU_CAPABILITY at import)."""
    pytest.importorskip("torch")
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "ATEN_CPU_CAPABILITY": "default"}).stdout.strip()
    assert out == "DEFAULT"


def test_call_with_runs_a_function_under_another_environment():
    assert kernels.call_with({"LRLAB_PROBE": "42"}, "os:getenv", "LRLAB_PROBE") == "42"
    with pytest.raises(RuntimeError, match="failed"):
        kernels.call_with({}, "math:sqrt", -1.0)


def test_text_outputs_blank_timings_and_merge_streams(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("x"), nbformat.v4.new_code_cell("print()", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="a time: 1.2 s\n"),
        nbformat.v4.new_output("stream", name="stdout", text="b\n")])]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert kernels.text_outputs(path) == {1: "[stdout] a time: TIME\nb\n"}


def test_robust_printing():
    assert report.loss_text(0.12345, 1.0, 3) == "0.123"
    assert report.loss_text(1.28, 1.0) == report.loss_text(2.34, 1.0) == "> 1"
    assert report.loss_text(float("nan"), 1.0) == "diverged"
    assert report.gap_text(2e-16) == report.gap_text(0.0) == "< 1e-09"
    assert report.share_text(0) == report.share_text(0.05) == "under 10 %"
    errors = np.r_[1.0, -0.5, 0.25, 1e-9, -1e-9, 1e-9]
    assert report.sign_changes(errors, 1e-6).tolist() == [2]
    with pytest.raises(ValueError, match="floor"):
        report.gap_text(1.0, floor=0)


def test_heatmap_text_marks_cells_with_a_seed_near_breakdown():
    import pandas as pd

    runs = pd.DataFrame({"lr": [0.1, 0.1, 1.0, 1.0, 3.0, 3.0], "batch": [8] * 6,
                         "val_loss": [0.2, 0.3, 0.2, 1.7, 0.5, np.inf]})
    text = sensitivity.heatmap_text(sensitivity.spread(runs, ["lr", "batch"], "val_loss"), "lr", "batch", 1.0)
    assert text[8].tolist() == ["0.250", "> 1", "diverged"]


def test_good_band_stops_at_a_run_near_breakdown():
    lrs, losses = [0.1, 1.0, 10.0], [0.1, 0.2, 1.7]
    chaotic = [0.1, 0.2, 1.9]
    assert sensitivity.good_band(lrs, losses, 0.3, failed_above=1.0) == sensitivity.good_band(
        lrs, chaotic, 0.3, failed_above=1.0) == pytest.approx(1.0)
    assert sensitivity.good_band(lrs, losses, 0.3) != sensitivity.good_band(lrs, chaotic, 0.3)


def _png(shift: int) -> str:
    from PIL import Image

    pixels = np.full((100, 100, 3), 255, np.uint8)
    pixels[50, 10:90] = 0
    pixels[50 + shift, 45] = 0  # one point of the curve moved
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _notebook(path: Path, text: str, png: str) -> Path:
    path.write_text(json.dumps({"cells": [{"outputs": [
        {"output_type": "stream", "text": text},
        {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"}}]}]}))
    return path


def test_same_but_noise_keeps_figures_whose_pixels_barely_moved(tmp_path):
    stored = _notebook(tmp_path / "a.ipynb", "loss 0.25 time: 1.0 s\n", _png(0))
    noise = _notebook(tmp_path / "b.ipynb", "loss 0.25 time: 2.5 s\n", _png(3))
    assert notebooks.same_but_noise(stored, noise)
    other_text = _notebook(tmp_path / "c.ipynb", "loss 0.26 time: 1.0 s\n", _png(0))
    assert not notebooks.same_but_noise(stored, other_text)
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(buffer, format="PNG")
    replotted = _notebook(tmp_path / "d.ipynb", "loss 0.25 time: 1.0 s\n", base64.b64encode(buffer.getvalue()).decode())
    assert not notebooks.same_but_noise(stored, replotted)
    assert not notebooks.same_but_noise(tmp_path / "missing.ipynb", stored)


def test_plots_setup_restores_the_books_style_after_a_hostile_matplotlibrc(tmp_path):
    env = kernels.setting_environment("emulated", scratch=tmp_path)
    code = ("import matplotlib; before = matplotlib.rcParams['figure.figsize']; from lrlab import plots; "
            "plots.setup(); import numpy as np; "
            "print(list(before), list(matplotlib.rcParams['figure.figsize']), matplotlib.rcParams['figure.dpi'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}).stdout.split("]")
    assert out[0] == "[3.0, 2.0" and out[1].strip() == "[6.4, 4.8" and out[2].strip() == "100.0"
