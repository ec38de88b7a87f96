"""lrlab.decoupled_decay: Adam + L2 against AdamW (C002-1b) — summary of the grid and the verdicts."""

from __future__ import annotations

import pandas as pd
import pytest

from lrlab import decoupled_decay, sensitivity


def cells():
    rows = []
    for form, losses in (("Adam + L2", [0.5, 0.3, 2.0, 0.4, 0.35, 2.2]), ("AdamW", [0.5, 0.3, 0.32, 0.4, 0.3, 0.31])):
        for (lr, decay), loss in zip([(lr, d) for d in (0.0, 0.1, 1.0) for lr in (0.01, 0.1)], losses, strict=True):
            rows.append({"form": form, "lr": lr, "decay": decay, "seed": 0, "val_loss": loss})
    return sensitivity.spread(pd.DataFrame(rows), ["form", "lr", "decay"], "val_loss")


def test_summary_finds_the_best_setting_and_the_largest_harmless_decay():
    summary = decoupled_decay.summary(cells()).set_index("form")
    assert summary.loc["Adam + L2", ["best val loss", "best lr", "best decay"]].tolist() == [0.3, 0.1, 0.0]
    assert summary.loc["Adam + L2", "largest decay within 10% of the best"] == 0.0
    assert summary.loc["AdamW", "largest decay within 10% of the best"] == 1.0


def test_the_verdict_is_framework_free_and_the_frameworks_get_not_testable():
    best = pd.DataFrame({"Adam + L2": [0.31, 0.312, 0.308], "AdamW": [0.30, 0.30, 0.30]})
    v = decoupled_decay.judge(best, decoupled_decay.summary(cells()), 0.05, scope="test", seeds=3)
    assert v.framework == "none" and v.word == "does not hold" and v.effect == pytest.approx(0.032, abs=0.001)
    n = decoupled_decay.not_testable("tf", "< 1e-04")
    assert n.word == "not testable here" and "to a relative < 1e-04" in n.evidence
