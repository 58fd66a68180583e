"""The accuracy board (`/leaderboard by:accuracy`): members ranked by their share of
correct answers, so someone who joined late can lead without having answered as often.

* Only members with at least `minimum` attempts (a setting, at least 1) are ranked: a
  single lucky answer is not 100 %. The others are listed apart, not ranked, most attempts
  first (the closest to being ranked), with how many attempts each still needs.
* The share is compared exactly (as a fraction, never a float): 2/3 and 4/6 are equal,
  and 1/3 is not 0.333....
* Ties are broken the way the points board breaks them (bot/rules/ranking.py): after the
  share, the longer current streak, then the earlier first answer; then, here only, more
  attempts. Members equal on all of them share a rank (1, 1, 3); the user id only fixes
  their printed order. `tie_rule` says it in one line for each board's footer.

Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Literal

Board = Literal["points", "accuracy"]

_TIE_RULES: dict[str, str] = {
    "points": "Ties: longer current streak, then earlier first answer.",
    "accuracy": "Ties: longer current streak, then earlier first answer, then more attempts.",
}


def tie_rule(board: Board) -> str:
    """The board's tie-breaks in one line, for its footer. The points board's line says
    what ranking.rank does (tests/rules/test_accuracy.py checks both lines against the
    orderings)."""
    return _TIE_RULES[board]


@dataclass(frozen=True)
class AccuracyStanding:
    user_id: str
    display_name: str
    attempts: int  # graded attempts in the period (one per post answered)
    correct: int
    current_streak: int
    first_answer_at: datetime

    def __post_init__(self) -> None:
        if not 0 <= self.correct <= self.attempts:
            raise ValueError(
                f"correct must be within 0..attempts, got {self.correct}/{self.attempts}"
            )

    @property
    def share(self) -> Fraction:
        """correct / attempts, exact; 0 with no attempts."""
        return Fraction(self.correct, self.attempts) if self.attempts else Fraction(0)

    @property
    def percent(self) -> int:
        """The share as a whole percentage for display, rounded down, so 100 % means all
        correct (199/200 shows 99 %)."""
        return (self.correct * 100) // self.attempts if self.attempts else 0


@dataclass(frozen=True)
class AccuracyRanked:
    rank: int  # 1-based position after tie-breaks
    standing: AccuracyStanding


@dataclass(frozen=True)
class Unranked:
    standing: AccuracyStanding
    needed: int  # attempts still needed to be ranked (at least 1)


@dataclass(frozen=True)
class AccuracyBoard:
    ranked: list[AccuracyRanked]
    unranked: list[Unranked]  # below the minimum, listed apart
    minimum: int


def _order(standing: AccuracyStanding) -> tuple[Fraction, int, datetime, int, str]:
    return (
        -standing.share,
        -standing.current_streak,
        standing.first_answer_at,
        -standing.attempts,
        standing.user_id,
    )


def rank_by_accuracy(standings: Sequence[AccuracyStanding], minimum: int) -> AccuracyBoard:
    """Rank the members with at least `minimum` attempts by share correct (ties as the
    module docstring says); list the rest apart, most attempts first, then in the same
    order as the ranked. `minimum` below 1 raises ValueError (a member with no attempts
    has no share to rank)."""
    if minimum < 1:
        raise ValueError(f"the minimum number of attempts must be at least 1, got {minimum}")
    eligible = sorted((s for s in standings if s.attempts >= minimum), key=_order)
    ranked: list[AccuracyRanked] = []
    for position, standing in enumerate(eligible, start=1):
        previous = ranked[-1] if ranked else None
        if previous is not None and _order(previous.standing)[:4] == _order(standing)[:4]:
            ranked.append(AccuracyRanked(rank=previous.rank, standing=standing))
        else:
            ranked.append(AccuracyRanked(rank=position, standing=standing))
    below = sorted(
        (s for s in standings if s.attempts < minimum), key=lambda s: (-s.attempts, _order(s))
    )
    unranked = [Unranked(standing=s, needed=minimum - s.attempts) for s in below]
    return AccuracyBoard(ranked=ranked, unranked=unranked, minimum=minimum)


def board(
    result: AccuracyBoard, caller_id: str, top: int = 10
) -> tuple[list[AccuracyRanked], AccuracyRanked | Unranked | None]:
    """The top `top` ranked, plus the caller's own entry when it is not among them: their
    rank, or their place apart with the attempts they still need (None when the caller
    is in the top or has no attempts in the period)."""
    head = result.ranked[:top]
    if any(r.standing.user_id == caller_id for r in head):
        return head, None
    mine = next((r for r in result.ranked[top:] if r.standing.user_id == caller_id), None)
    if mine is not None:
        return head, mine
    return head, next((u for u in result.unranked if u.standing.user_id == caller_id), None)
