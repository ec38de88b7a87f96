"""lrlab.part_verdicts, lrlab.batch_memory and lrlab.penalties: the helpers of chapters 7, 8 and 11."""

import pytest

from lrlab import batch_memory, part_verdicts, penalties
from lrlab.data import digits


def test_judge_conditions_and_table():
    v = part_verdicts.judge("C000-3a", "torch", {"equal epochs": (0.9, 0.1), "equal loss": (-0.013, 0.012)}, 0.02,
                            rule="r", evidence="e", scope="s", seeds=5, record=False)
    assert (v.word, v.condition, v.robust) == ("holds only when", "equal epochs", True)
    rows = part_verdicts.table([v])
    assert list(rows.word) == ["holds", "inconclusive", "holds only when equal epochs"]
    exact = part_verdicts.judge("C000-3b", "tf", {"": (23.4, None)}, 2.0, rule="r", evidence="e", scope="s",
                                seeds=None, record=False)
    assert exact.word == "holds" and part_verdicts.table([exact])["noise (seed std)"].iloc[0] == "exact"


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_saved_bytes_grow_with_the_batch(framework):
    one, four = (batch_memory.saved_bytes(framework, (64, 32, 10), b) for b in (1, 4))
    assert four - one == 3 * 8 * (64 + 32 + 10 + 10)  # input, ReLU output, softmax, target per example
    assert batch_memory.parameter_bytes((64, 32, 10)) == 8 * (64 * 32 + 32 + 32 * 10 + 10)


def test_penalty_free_numpy_adam_is_fit_many():
    from lrlab import torch as lt
    d = digits(seed=0)
    h = lt.fit_many(lt.mlp((64, 32, 10), "relu", "softmax", seed=1), d.train, d.val, optimizer="adam",
                    loss="categorical_crossentropy", epochs=2, batch_size=64, configs=[{"lr": 0.01}], seed=0)
    mine = penalties.adam_mlp((64, 32, 10), d.train, d.val, lr=0.01, l1=[0.0, 0.01], init_seeds=[1], epochs=2,
                              batch_size=64, seed=0)
    assert abs(mine[0] - h.val_loss.iloc[-1]) < 1e-9
    assert mine[1] > mine[0]  # a strong L1 penalty costs validation loss
    with pytest.raises(Exception, match="l1"):
        penalties.adam_mlp((64, 32, 10), d.train, d.val, lr=0.01, l1=[-1.0])
