"""Points for one attempt. easy 1, medium 2 (also unknown difficulty), hard 3.

A correct choice, or an open-question signal of good/easy/yes, scores full points; "hard"
scores half; again/no score nothing; a choice vote after peeking at /answer scores
nothing (see `tainted_by_peek`: any change of the effective choice after the peek, even one
caused by removing a reaction); anything after the reveal scores nothing (it is practice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Signal = Literal["again", "hard", "good", "easy", "yes", "no"]
GRADES: tuple[str, ...] = ("again", "hard", "good", "easy")
POINTS: dict[str, int] = {"easy": 1, "medium": 2, "hard": 3}
_KNEW_IT: frozenset[str] = frozenset({"good", "easy", "yes"})


@dataclass(frozen=True)
class AttemptFacts:
    kind: str  # "open" | "choice"
    difficulty: str | None
    choice: str | None  # the vote (choice questions)
    correct: str | None  # the key (choice questions)
    signal: Signal | None  # the latest self-assessment (open questions)
    peeked_before: bool  # the user's choice changed after they opened /answer
    after_reveal: bool


def is_correct(facts: AttemptFacts) -> bool | None:
    """Choice: vote == key. Open: good/easy/yes True, hard True, again/no False.
    None when there is nothing to judge (no vote / no signal)."""
    if facts.kind == "choice":
        if facts.choice is None or facts.correct is None:
            return None
        return facts.choice.strip().upper() == facts.correct.strip().upper()
    if facts.signal is None:
        return None
    return facts.signal in _KNEW_IT or facts.signal == "hard"


def base_points(difficulty: str | None) -> int:
    """What a full-credit attempt is worth; unknown or missing difficulty counts as medium."""
    return POINTS.get(difficulty or "medium", POINTS["medium"])


def points(facts: AttemptFacts) -> float:
    """Points this attempt earns; see the module docstring for the table."""
    if facts.after_reveal:
        return 0.0
    if is_correct(facts) is not True:
        return 0.0
    full = float(base_points(facts.difficulty))
    if facts.kind == "choice":
        return 0.0 if facts.peeked_before else full
    if facts.signal == "hard":
        return full / 2
    return full


def tainted_by_peek(
    *,
    peeked_at: datetime | None,
    choice: str | None,
    vote_at: datetime | None,
    previous_choice: str | None,
    already: bool,
) -> bool:
    """Whether a choice attempt counts as made after peeking at /answer (it then scores
    nothing). Only the choice the user held when they peeked keeps its points: once they
    have peeked, any change of their effective choice taints the attempt, whether a new
    vote, a switch, or a removal that falls back to an older reaction (removed reactions
    are not stored, so `previous_choice`, the attempt's choice before this change, is what
    tells). The taint is sticky (`already`): going back to the earlier choice does not
    undo it.

    `choice`: the effective choice now; `vote_at`: when that vote was added."""
    if already:
        return True
    if peeked_at is None or choice is None:
        return False
    if vote_at is not None and peeked_at <= vote_at:
        return True
    return choice != previous_choice
