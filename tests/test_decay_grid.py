"""lrlab.decay_grid: the starting rate × total decay grid of the decay chapter (C004-2)."""

import pandas as pd
import pytest

from lrlab import decay_grid
from lrlab.params import ParameterError


def grid_runs():
    rows = []
    for seed, shift in ((0, 0.0), (1, 0.1)):
        for (start, factor), loss in {(0.001, 1): 1.0, (0.01, 1): 0.5, (0.01, 100): 0.6, (0.1, 1): 0.4,
                                      (0.1, 100): 0.3}.items():
            rows.append({"optimizer": "adam", "seed": seed, "start lr": start, "factor": factor,
                         "val_loss": loss + shift})
    return pd.DataFrame(rows)


def test_best_cells_compares_the_cells_chosen_on_the_means():
    measured, chosen = decay_grid.best_cells(grid_runs(), band=(0.001, 0.01), factor=100, optimizers=["adam"])
    assert chosen == [{"optimizer": "adam", "best in band": (0.01, 1), "best outside": (0.1, 100),
                       "best decaying >= 100x": (0.1, 100), "best decaying < 100x": (0.1, 1)}]
    assert measured["C004-2a"]["adam"][0] == pytest.approx((0.5 / 0.3 + 0.6 / 0.4) / 2 - 1)
    assert measured["C004-2b"]["adam"][0] == pytest.approx(1 - (0.3 / 0.4 + 0.4 / 0.5) / 2)


def test_label_repeats_the_grid_once_per_call():
    configs, labels = decay_grid.grid([0.01, 0.1], [1, 10], steps=5)
    assert configs[0] == {"lr": 0.01} and not isinstance(configs[1]["lr"], float)
    runs = pd.DataFrame({"val_loss": range(8)})
    assert decay_grid.label(runs, labels)["start lr"].tolist() == [0.01, 0.01, 0.1, 0.1] * 2
    with pytest.raises(ParameterError):
        decay_grid.label(runs.head(3), labels)
