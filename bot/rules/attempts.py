"""The attempt a user's stored facts on one post make: a pure function of those facts.

Both writers call it: the answers fast path (one storage round per reaction, the facts
read inside the writer's own transaction) and the ORM path (grades, stray replays). So
the attempt stays recomputable from what is stored, whichever path wrote it.

An attempt is always rebuilt from the reactions still present, the latest grade and the
peek, never patched, so adding, removing and switching in any order ends in the same
state. Two facts carry history, as removed reactions are not stored: after a peek, a
change of the effective choice taints the attempt for good (`tainted_by_peek`), and
`updated_at` moves only when the judged outcome changes (the reveal's "first correct"
ranks by it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.rules.scoring import AttemptFacts, Signal, is_correct, points, tainted_by_peek

YES: Final = "yes"
NO: Final = "no"
_SIGNALS: dict[str, Signal] = {
    "again": "again", "hard": "hard", "good": "good", "easy": "easy", "yes": "yes", "no": "no",
}


@dataclass(frozen=True)
class AttemptValues:
    """An attempt's stored columns (everything but its keys)."""

    choice: str | None
    signal: str | None
    grade: str | None
    graded_at: datetime | None
    peeked_before: bool
    after_reveal: bool
    correct: bool | None
    points: float
    first_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Present:
    """A reaction still on the post, as stored."""

    key: str
    added_at: datetime


@dataclass(frozen=True)
class AnswerKey:
    """What of the question the attempt depends on."""

    kind: str  # "choice" | "open"
    letters: tuple[str, ...]
    difficulty: str | None
    correct: str | None


@dataclass(frozen=True)
class Keep:
    """Nothing to write: the scored answer stands (points closed at the reveal)."""

    attempt: AttemptValues


Decision = AttemptValues | Keep | None  # None: delete the attempt (nothing is left)


def next_attempt(
    key: AnswerKey,
    stored: AttemptValues | None,
    present: Sequence[Present],
    peeked_at: datetime | None,
    *,
    after_reveal: bool,
    now: datetime,
    grade: tuple[str, datetime] | None = None,
) -> Decision:
    """The attempt these facts make. `present`: the user's reactions oldest first;
    `grade`: a self-grade given now (else the stored one counts); `after_reveal`: the
    post's reveal is out (points close when it is posted, not at its planned time, so a
    reveal held up by a failing platform does not close answering early)."""
    if after_reveal and stored is not None and not stored.after_reveal:
        return Keep(stored)  # the scored answer stands; later changes are practice
    choice: str | None = None
    signal: str | None = None
    peeked_before = False
    if grade is None and stored is not None and stored.grade and stored.graded_at:
        grade = (stored.grade, stored.graded_at)
    if key.kind == "choice":
        votes = [r for r in present if r.key in key.letters]
        if votes:
            choice = votes[-1].key
            peeked_before = tainted_by_peek(
                peeked_at=peeked_at,
                choice=choice,
                vote_at=votes[-1].added_at,
                previous_choice=stored.choice if stored is not None else None,
                already=stored is not None and stored.peeked_before,
            )
    else:
        marks = [r for r in present if r.key in (YES, NO)]
        latest_mark = marks[-1] if marks else None
        if grade is not None and (latest_mark is None or grade[1] >= latest_mark.added_at):
            signal = grade[0]
        elif latest_mark is not None:
            signal = latest_mark.key
    if choice is None and signal is None:
        return None
    facts = AttemptFacts(
        kind=key.kind,
        difficulty=key.difficulty,
        choice=choice,
        correct=key.correct,
        signal=_SIGNALS.get(signal) if signal is not None else None,
        peeked_before=peeked_before,
        after_reveal=after_reveal,
    )
    correct, earned = is_correct(facts), points(facts)
    first_at = updated_at = now
    if stored is not None:
        first_at, updated_at = stored.first_at, stored.updated_at
        # `updated_at` is when the current outcome was reached (the reveal's "first
        # correct" ranks by it), so a recompute that changes nothing judged (a stray
        # reaction removed, Good regraded as Easy) leaves it alone.
        if _outcome(stored.choice, stored.correct, stored.points) != _outcome(
            choice, correct, earned
        ):
            updated_at = now
    graded = grade if grade is not None else (
        (stored.grade, stored.graded_at) if stored is not None else (None, None)
    )
    values = AttemptValues(
        choice=choice,
        signal=signal,
        grade=graded[0],
        graded_at=graded[1],
        peeked_before=peeked_before,
        after_reveal=after_reveal,
        correct=correct,
        points=earned,
        first_at=first_at,
        updated_at=updated_at,
    )
    return values


def _outcome(choice: str | None, correct: bool | None, earned: float) -> tuple[object, ...]:
    """What a change must alter to count as a new answer: the vote, right or wrong, and
    whether it scores (not how much: Good then Hard is still correct since the first)."""
    return (choice, correct, earned > 0)
