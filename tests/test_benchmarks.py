"""The benchmark's FLOP counts (benchmarks/run.py): the CNN grid's matrix products add up to its FLOPs."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from lrlab import training

_SPEC = importlib.util.spec_from_file_location("bench_run", Path(__file__).parent.parent / "benchmarks" / "run.py")
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def _flops(products) -> float:
    """2 per multiply-add: (..., r, k) x (..., k, n) is 2·batch·r·k·n."""
    return sum(count * 2 * math.prod(a[:-1]) * a[-1] * b[-1] for count, a, b in products)


@pytest.mark.parametrize("spec, n_train, batch", [
    (training.CNNSpec(), 3200, 100),  # the benchmark's grid: 32 full batches
    (training.check_cnn((6, 4), (3, 5), stride=1, padding=0), 250, 64),  # a last partial batch of 58 rows
])
def test_cnn_products_add_up_to_the_cnn_flops(spec, n_train, batch):
    models, n_val = 16, 800
    products = bench.cnn_products(spec, models, n_train, n_val, batch)
    assert _flops(products) == pytest.approx(models * bench.cnn_flops(spec, n_train, n_val, epochs=1), rel=1e-12)
    assert all(count >= 1 and min(a + b) >= 1 for count, a, b in products)
