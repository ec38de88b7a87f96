"""lrlab.part_checks: per-seed effects to verdicts (chapters 13 and 14)."""

import math

import numpy as np
import pandas as pd
import pytest

from lrlab import part_checks
from lrlab.params import ParameterError


def test_effect_is_mean_and_sample_std():
    assert part_checks.effect([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))
    mean, std = part_checks.effect([2.0])
    assert mean == 2.0 and math.isnan(std)
    with pytest.raises(ParameterError):
        part_checks.effect([])


def test_judge_at_least_and_at_most():
    assert part_checks.judge(1.6, 0.1, 1.0) == ("holds", True)
    assert part_checks.judge(0.9, 0.1, 1.0) == ("does not hold", False)  # 0.5 would make it hold
    assert part_checks.judge(0.1, 0.2, 1.0)[0] == "inconclusive"
    assert part_checks.judge(0.03, 0.001, 0.04, "<=") == ("holds", False)  # 0.02 would not
    assert part_checks.judge(0.34, 0.005, 0.04, "<=") == ("does not hold", True)
    assert part_checks.judge(0.06, 0.057, 0.1, "<=") == ("holds", False)  # within the noise, below t: holds
    assert part_checks.judge(0.06, 0.057, 0.04, "<=")[0] == "inconclusive"  # above t, within the noise of 0
    with pytest.raises(ParameterError, match="comparison"):
        part_checks.judge(1.0, 0.1, 1.0, ">")


def test_verdict_with_conditions_is_holds_only_when():
    v = part_checks.verdict("C004-1b", "torch", {"lr 3": (0.9, 0.3), "lr 10": (1.9, 0.2)}, threshold=1.0,
                            rule="r", unit="decades", seeds=5, scope="s", record=False)
    assert (v.word, v.condition, v.effect) == ("holds only when", "lr 10", 1.9)
    assert v.robust is False and v.extra["conditions"]["lr 3"]["word"] == "does not hold"
    rows = part_checks.table([v])
    assert list(rows.condition) == ["lr 3", "lr 10"] and set(rows.verdict) == {"holds only when lr 10"}


def test_verdict_single_condition_and_nan_noise():
    v = part_checks.verdict("C004-1c", "tf", {"": (1.7, float("nan"))}, threshold=0.3, rule="r", unit="d",
                            seeds=1, scope="s", record=False)
    assert v.word == "holds" and v.noise is None and v.condition == ""


def test_run_summary_reads_each_run():
    rows = []
    for lr, losses, status in ((0.1, [2.0, 1.0, 0.5, 0.05], "ok"), (9.0, [2.0, 50.0], "diverged")):
        for e, loss in enumerate(losses):
            rows.append({"lr": lr, "seed": 0, "epoch": e, "loss": loss, "val_loss": loss + 0.1,
                         "status": status if e == len(losses) - 1 else "ok"})
    runs = pd.DataFrame(rows).assign(gap=0.1)
    table = part_checks.run_summary(runs, equal_epochs=2, target_loss=0.5, skip=0).set_index("lr")
    assert table.loc[0.1, "loss at E"] == 1.0 and table.loc[0.1, "epochs to target"] == 3
    assert table.loc[0.1, "progress"] == pytest.approx(np.log10(1.0 / 0.05))
    assert table.loc[9.0, "diverged"] and table.loc[9.0, "final loss"] == math.inf


def test_show_verdicts_prints_the_table_in_order_and_returns_the_words(capsys):
    cases = (("B", "tf", 1.0), ("A", "tf", 1.0), ("A", "torch", 0.1))
    found = [part_checks.verdict(part, fw, {"": (e, 0.01)}, threshold=0.5, rule="r", unit="u", seeds=2, scope="s",
                                 record=False) for part, fw, e in cases]
    texts = part_checks.show_verdicts(found, ["A", "B"], glue_as="t_word_")
    out = capsys.readouterr().out
    assert out.index(" A ") < out.index(" B ") and "verdict" not in out.splitlines()[0]
    assert "the frameworks agree on every part: False" in out
    assert texts == {"B": "*holds* (tf)", "A": "*does not hold* (torch) / *holds* (tf)"}
