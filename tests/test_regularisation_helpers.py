"""Helpers of chapters 11 and 12: penalties.sweep, one_at_a_time, weight_decay_lr, cyclic_basins."""

import numpy as np
import pandas as pd
import pytest

from lrlab import cyclic_basins, one_at_a_time, penalties, weight_decay_lr
from lrlab.data import Wells, digits
from lrlab.params import ParameterError


def test_penalty_sweep_is_adam_mlp_per_penalty():
    d = digits(seed=0)
    table = penalties.sweep((64, 32, 10), d.train, d.val, {"L1": [0.0, 0.01], "L2": [0.1]}, lr=0.01, seeds=[3, 4],
                            epochs=1)
    assert table[["hyperparameter", "value", "seed"]].to_numpy().tolist() == [
        ["L1 penalty", 0.0, 3], ["L1 penalty", 0.0, 4], ["L1 penalty", 0.01, 3], ["L1 penalty", 0.01, 4],
        ["L2 penalty", 0.1, 3], ["L2 penalty", 0.1, 4]]
    direct = penalties.adam_mlp((64, 32, 10), d.train, d.val, lr=0.01, l1=[0.01], init_seeds=[4], epochs=1, seed=3)
    assert table.val_loss.iloc[3] == pytest.approx(direct[0], abs=1e-12)
    with pytest.raises(ParameterError, match="L3"):
        penalties.sweep((64, 32, 10), d.train, d.val, {"L3": [0.1]}, lr=0.01, seeds=[0], epochs=1)


def test_effects_rank_the_sweeps():
    runs = pd.DataFrame({"hyperparameter": ["a"] * 4 + ["b"] * 4, "seed": [0, 0, 1, 1] * 2, "value": [1, 2] * 4,
                         "val_loss": [0.1, 0.5, 0.2, 0.4, 0.3, 0.31, 0.3, 0.32]})
    effect = one_at_a_time.effects(runs, cap=1.0)
    assert list(effect) == ["a", "b"]
    table = one_at_a_time.effects_table({"tf": effect})
    assert table.hyperparameter.tolist() == ["a", "b"]
    assert table[one_at_a_time.EFFECT].round(6).tolist() == [0.3, 0.015]


def test_strong_decay_damage_per_seed():
    rows = [{"seed": s, "weight_decay": wd, "lr": lr, "val_loss": loss}
            for s in (0, 1) for wd, lr, loss in ((0.0, 0.1, 0.3), (0.0, 1.0, 0.2), (0.0, 3.0, 2.0),
                                                 (0.01, 0.1, 0.35), (0.01, 1.0, 0.6 + s / 10), (0.01, 3.0, 2.0))]
    damage = weight_decay_lr.strong_decay_damage(pd.DataFrame(rows), [0.0, 0.01], cap=1.0)
    assert (damage["strong"], damage["low"], damage["high"]) == (0.01, 0.1, 1.0)
    assert damage["effect"].round(6).tolist() == [0.35, 0.45]


def test_cyclic_basins_shares():
    counts = pd.DataFrame({"framework": ["tf"] * 4, "surface": ["s"] * 4, "max_lr": [0.7] * 4,
                           "start kind": ["sharp", "sharp", "wide", "global"], "left": [True, False, False, True],
                           "small lr at global": [False, False, False, True],
                           "cycle at global": [False, False, False, False]})
    left = cyclic_basins.left_shares(counts)
    assert left.loc[(0.7, "sharp"), "tf"] == 0.5 and left.loc[(0.7, "wide"), "tf"] == 0.0
    at_global = cyclic_basins.global_shares(counts)
    assert at_global.loc[("s", 0.7, "tf")].tolist() == [0.25, 0.0]
    assert cyclic_basins.minimum_name(Wells(), 0) == "-2.32 (wide)"
    assert np.isclose(Wells().minima().max_stable_lr.iloc[0], 1.5256, atol=1e-4)
