"""Verdicts on claim parts: one per part, per framework, per regime, decided by a rule stated in advance.

``../shared/seed-catalogue.md`` splits every claim (C row) into parts
(``C004-1d``: "too small an LR over-fits easily"). A chapter states each part's
decision rule and threshold in its text *before* the numbers, measures the
effect in each framework from that framework's own runs, and records one
:class:`Verdict` per part and framework with :func:`record`. The claims page
(:mod:`lrlab.claims`) is built from these records only.

The five words (:data:`WORDS`):

* ``holds`` — the effect reaches the threshold in the claimed direction and
  stands out of the seed noise;
* ``holds only when …`` — it holds under a measured, named condition and not
  otherwise (:func:`decide_conditions`; the condition is part of the verdict);
* ``does not hold`` — the effect stands out of the noise but misses the
  threshold or points the other way;
* ``inconclusive`` — the effect is within the seed noise (``|effect| <= 2·noise``);
* ``not testable here`` — the reason is the evidence.

:func:`decide` applies the rule; :func:`survives` re-applies it with the
threshold moved by ±50 % (the page's robustness column).

>>> decide(effect=0.6, noise=0.05, threshold=0.25)
'holds'
>>> decide(effect=0.03, noise=0.05, threshold=0.25)
'inconclusive'
>>> decide(effect=-0.4, noise=0.05, threshold=0.25)
'does not hold'
>>> survives(effect=0.3, noise=0.05, threshold=0.25)
False
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from lrlab.params import ParameterError

__all__ = ["FRAMEWORK_FREE", "WORDS", "Verdict", "decide", "decide_conditions", "record", "survives"]

#: the only verdict words; "holds only when" is followed by its condition
WORDS = ("holds", "holds only when", "does not hold", "inconclusive", "not testable here")
#: the framework of a verdict that rests on no training framework (numpy, scikit-learn, arithmetic)
FRAMEWORK_FREE = "none"
#: an effect within this many seed standard deviations of zero is inconclusive
NOISE_MULTIPLE = 2.0


def decide(effect: float, noise: float | None, threshold: float, direction: int = 1) -> str:
    """Return the verdict word for ``effect`` against ``threshold``, given the seed ``noise`` (a std).

    The claim predicts ``direction · effect >= threshold`` (``direction`` is +1
    or −1). Within ``NOISE_MULTIPLE · noise`` of zero the effect cannot be told
    from seed noise: "inconclusive". ``noise`` None or 0 means a deterministic
    measurement. A non-finite effect is "inconclusive".
    """
    if direction not in (1, -1):
        raise ParameterError(f"direction = {direction!r} is not allowed; expected 1 or -1")
    if effect is None or not math.isfinite(effect):
        return "inconclusive"
    if noise and abs(effect) <= NOISE_MULTIPLE * noise:
        return "inconclusive"
    return "holds" if direction * effect >= threshold else "does not hold"


def survives(effect: float, noise: float | None, threshold: float, direction: int = 1) -> bool:
    """Return whether :func:`decide` gives the same word with ``threshold`` × 0.5 and × 1.5."""
    word = decide(effect, noise, threshold, direction)
    return all(decide(effect, noise, threshold * f, direction) == word for f in (0.5, 1.5))


def decide_conditions(words: dict) -> tuple[str, str]:
    """Return ``(word, condition)`` from the words of one rule applied under several named conditions.

    All "holds": "holds"; none "holds" and at least one "does not hold": "does
    not hold"; some "holds": "holds only when" with the conditions that hold,
    joined by "or"; otherwise "inconclusive".

    >>> decide_conditions({"k = 4": "holds", "k = 16": "does not hold"})
    ('holds only when', 'k = 4')
    """
    if not words:
        raise ParameterError("words = {} is not allowed; expected at least one condition")
    held = [c for c, w in words.items() if w == "holds"]
    if len(held) == len(words):
        return "holds", ""
    if held:
        return "holds only when", " or ".join(held)
    if any(w == "does not hold" for w in words.values()):
        return "does not hold", ""
    return "inconclusive", ""


@dataclass(frozen=True)
class Verdict:
    """One claim part's verdict in one framework and regime, with what it rests on."""

    part: str  # "C004-1d"
    framework: str  # "tf", "torch" or FRAMEWORK_FREE
    word: str  # one of WORDS
    rule: str  # the decision rule with its threshold, as stated before the numbers
    evidence: str  # one sentence with the measured numbers
    effect: float | None = None  # in the rule's units
    noise: float | None = None  # seed-to-seed standard deviation of the effect
    threshold: float | None = None
    robust: bool | None = None  # the same word with the threshold moved by ±50 %
    condition: str = ""  # for "holds only when": the measured condition
    seeds: int | None = None
    scope: str = ""  # data, model, budget
    regime: str = "digits"
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.word not in WORDS:
            raise ParameterError(f"word = {self.word!r} is not allowed; expected one of {', '.join(WORDS)}")
        if (self.word == "holds only when") != bool(self.condition):
            raise ParameterError(f"condition = {self.condition!r} is not allowed; expected a condition exactly "
                                 "when the word is 'holds only when'")
        if self.framework not in ("tf", "torch", FRAMEWORK_FREE):
            raise ParameterError(f"framework = {self.framework!r} is not allowed; expected 'tf', 'torch' or "
                                 f"{FRAMEWORK_FREE!r}")

    @property
    def text(self) -> str:
        """The verdict as the page prints it: the word, with its condition when there is one."""
        return f"{self.word} {self.condition}" if self.condition else self.word

    @property
    def key(self) -> str:
        return f"verdict:{self.part}:{self.regime}:{self.framework}"


def record(verdict: Verdict) -> Verdict:
    """Record ``verdict`` in the notebook's output (:func:`lrlab.record`) under ``verdict:PART:REGIME:FRAMEWORK``."""
    from lrlab.records import record as _record

    _record(verdict.key, {k: v for k, v in asdict(verdict).items() if v not in (None, "", {})})
    return verdict
