"""lrlab.lr_bands: per-seed band edges, the weight-trace callback, judge and the verdict table (chapters 9, 10, 12)."""

import math

import numpy as np
import pandas as pd
import pytest

from lrlab import lr_bands, verdicts
from lrlab.params import ParameterError
from lrlab.sensitivity import good_band


def test_band_edges_interpolate_like_good_band():
    lrs, losses = [0.001, 0.01, 0.1, 1.0], [0.9, 0.2, 0.1, 0.5]
    low, high = lr_bands.band_edges(lrs, losses, threshold=0.3)
    assert low == pytest.approx(-3 + 6 / 7)
    assert high == pytest.approx(-1 + 0.5)
    assert high - low == pytest.approx(good_band(lrs, losses, 0.3))


def test_band_edges_stop_at_failed_or_diverged_points_and_none_good():
    assert lr_bands.band_edges([0.01, 0.1, 1.0], [0.2, 0.1, 2.0], 0.3, failed_above=1.0) == (-2.0, -1.0)
    assert lr_bands.band_edges([0.01, 0.1, 1.0], [np.inf, 0.1, 0.2], 0.3) == (-1.0, 0.0)
    low, high = lr_bands.band_edges([0.01, 0.1], [0.5, 0.6], 0.3)
    assert math.isnan(low) and math.isnan(high)


def test_seed_bands_one_row_per_group_and_seed():
    runs = pd.DataFrame({"opt": ["a"] * 6, "seed": [0, 0, 0, 1, 1, 1], "lr": [0.01, 0.1, 1.0] * 2,
                         "val_loss": [0.2, 0.1, 0.25, 0.5, 0.1, 0.2]})
    bands = lr_bands.seed_bands(runs, "opt", threshold=0.3, failed_above=1.0)
    assert list(bands.seed) == [0, 1]
    assert bands.band.tolist() == pytest.approx([2.0, 1.5])  # seed 1: half a decade below 0.1, then 0.1 -> 1
    assert bands.high.tolist() == pytest.approx([0.0, 0.0])
    # a grid point where one seed ended above the cut stops every seed's band there
    runs.loc[5, "val_loss"] = 1.5
    assert lr_bands.seed_bands(runs, "opt", 0.3, failed_above=1.0).high.tolist() == pytest.approx([-1.0, -1.0])
    with pytest.raises(ParameterError, match="lacks"):
        lr_bands.seed_bands(runs.drop(columns="seed"), "opt", 0.3)


def test_mean_std():
    assert lr_bands.mean_std([0.5, 0.7, 0.6]) == pytest.approx((0.6, 0.1))
    assert lr_bands.mean_std([0.4]) == (0.4, 0.0)
    with pytest.raises(ParameterError):
        lr_bands.mean_std([])


def test_judge_conditions_and_table(capsys):
    v = lr_bands.judge("C000-4b", "torch", {"counted in effective step": (0.5, 0.0), "counted in raw LR": (-0.5, 0.0)},
                       0.25, rule="r", evidence="e", scope="s", seeds=5)
    assert v.word == "holds only when" and v.condition == "counted in effective step"
    assert v.robust and v.effect == 0.5 and set(v.extra["conditions"]) == {"counted in effective step",
                                                                          "counted in raw LR"}
    assert "recorded verdict:C000-4b:digits:torch" in capsys.readouterr().out
    single = lr_bands.judge("C002-1a", "tf", {"x": (0.123456789, None)}, 0.25, rule="r", evidence="e", scope="s",
                            seeds=None)
    assert single.word == "does not hold" and single.effect == 0.123 and single.extra == {}
    untested = verdicts.Verdict(part="C002-1b", framework="tf", word="not testable here", rule="r", evidence="why")
    t = lr_bands.table([v, single, untested])
    assert t.iloc[-1][["effect", "noise (seed std)", "threshold", "survives ±50 %"]].tolist() == ["-"] * 4
    t = t.iloc[:-1]
    assert len(t) == 3 and t["noise (seed std)"].iloc[-1] == "exact"
    assert t["verdict"].iloc[0] == "holds only when counted in effective step"
    assert t["survives ±50 %"].tolist() == ["yes", "yes", "yes"]


def test_weight_trace_records_every_update():
    lt = pytest.importorskip("lrlab.torch")
    x = np.array([[1.0], [2.0], [3.0]])
    model = lt.mlp((1, 1), output_activation="linear", weights=[(np.zeros((1, 1)), np.zeros(1))])
    trace = lr_bands.WeightTrace()
    lt.fit(model, (x, 2 * x), optimizer=lt.optimizer("sgd", 0.05), loss="mse", epochs=4, batch_size=None,
           shuffle=False, callbacks=[trace])
    assert trace.path.shape == (4, 2)
    (kernel, bias), = lt.weights(model)
    assert np.allclose(trace.path[-1], [kernel[0, 0], bias[0]])


def test_words_repr_has_no_quotes():
    from IPython.lib.pretty import pretty

    assert repr(lr_bands.Words("down")) == "down" and pretty(lr_bands.Words("holds")) == "holds"
    with pytest.raises(ParameterError):
        lr_bands.Words(3)


def test_mean_bands_stop_at_a_failed_grid_point_and_keep_the_order_asked_for():
    table = pd.DataFrame({"opt": ["b"] * 3 + ["a"] * 3, "lr": [0.01, 0.1, 1.0] * 2,
                          "mean": [0.5, 0.1, 0.2, 0.2, 0.2, 0.2], "std": [0.0] * 6,
                          "max": [0.5, 0.1, 3.0, 0.2, 0.2, 0.2]})
    bands = lr_bands.mean_bands(table, "opt", threshold=0.3, failed_above=1.0, order=["b", "a"])
    assert bands.opt.tolist() == ["b", "a"]
    assert bands["largest good lr"].tolist() == [0.1, 1.0]  # b's 1.0 had a seed above the cut
    assert bands["band (decades)"].round(6).tolist() == [0.5, 2.0]
    assert lr_bands.mean_bands(table, "opt", 0.3, 1.0).opt.tolist() == ["a", "b"]


def test_verdict_words_join_one_frameworks_parts():
    items = [verdicts.Verdict(part=p, framework=f, word="holds", rule="r", evidence="e")
             for p, f in (("C1", "tf"), ("C2", "torch"), ("C3", "tf"))]
    assert repr(lr_bands.verdict_words(items, "tf")) == "C1: holds; C3: holds"
