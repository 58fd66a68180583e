"""Points for one attempt. easy 1, medium 2 (also unknown difficulty), hard 3.

A correct choice, or an open-question signal of good/easy/yes, scores full points; "hard"
scores half; again/no score nothing; a choice vote after peeking at /answer scores
nothing; anything after the reveal scores nothing (it is practice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Signal = Literal["again", "hard", "good", "easy", "yes", "no"]
GRADES: tuple[str, ...] = ("again", "hard", "good", "easy")
POINTS: dict[str, int] = {"easy": 1, "medium": 2, "hard": 3}


@dataclass(frozen=True)
class AttemptFacts:
    kind: str  # "open" | "choice"
    difficulty: str | None
    choice: str | None  # the vote (choice questions)
    correct: str | None  # the key (choice questions)
    signal: Signal | None  # the latest self-assessment (open questions)
    peeked_before: bool  # the user opened /answer before this vote
    after_reveal: bool


def is_correct(facts: AttemptFacts) -> bool | None:
    """Choice: vote == key. Open: good/easy/yes True, hard True, again/no False.
    None when there is nothing to judge (no vote / no signal)."""
    raise NotImplementedError


def points(facts: AttemptFacts) -> float:
    raise NotImplementedError
