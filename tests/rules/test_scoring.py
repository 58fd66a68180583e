"""Points per attempt: difficulty values, half for "hard", nothing after peeking or reveal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.rules.scoring import AttemptFacts, Signal, is_correct, points, tainted_by_peek

CHOICE = AttemptFacts(kind="choice", difficulty="medium", choice="B", correct="B", signal=None,
                      peeked_before=False, after_reveal=False)
OPEN = AttemptFacts(kind="open", difficulty="hard", choice=None, correct=None, signal="good",
                    peeked_before=False, after_reveal=False)


@pytest.mark.parametrize(("difficulty", "expected"),
                         [("easy", 1), ("medium", 2), ("hard", 3), (None, 2), ("weird", 2)])
def test_correct_choice_scores_by_difficulty(difficulty: str | None, expected: float) -> None:
    assert points(replace(CHOICE, difficulty=difficulty)) == expected


def test_wrong_choice_scores_nothing() -> None:
    wrong = replace(CHOICE, choice="C")
    assert is_correct(wrong) is False
    assert points(wrong) == 0


def test_choice_after_peeking_or_reveal_scores_nothing_but_is_judged() -> None:
    assert points(replace(CHOICE, peeked_before=True)) == 0
    assert is_correct(replace(CHOICE, peeked_before=True)) is True
    assert points(replace(CHOICE, after_reveal=True)) == 0


@pytest.mark.parametrize(("signal", "correct", "expected"), [
    ("good", True, 3), ("easy", True, 3), ("yes", True, 3), ("hard", True, 1.5),
    ("again", False, 0), ("no", False, 0),
])
def test_open_signals(signal: Signal, correct: bool, expected: float) -> None:
    facts = replace(OPEN, signal=signal)
    assert is_correct(facts) is correct
    assert points(facts) == expected


def test_open_after_reveal_is_practice() -> None:
    assert points(replace(OPEN, after_reveal=True)) == 0


def test_open_grading_after_peeking_still_counts() -> None:
    # Open questions are graded by looking at the answer: peeking is the normal path.
    assert points(replace(OPEN, peeked_before=True)) == 3


def test_nothing_to_judge() -> None:
    assert is_correct(replace(CHOICE, choice=None)) is None
    assert is_correct(replace(OPEN, signal=None)) is None
    assert points(replace(OPEN, signal=None)) == 0
    assert is_correct(replace(CHOICE, correct=None)) is None  # a question missing its key


T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_peek_taints_any_change_of_the_effective_choice() -> None:
    before, peek, after = T0, T0 + MIN, T0 + 2 * MIN
    # No peek, or the choice held at the peek unchanged: scores.
    assert not tainted_by_peek(peeked_at=None, choice="B", vote_at=after, previous_choice="A",
                               already=False)
    assert not tainted_by_peek(peeked_at=peek, choice="B", vote_at=before, previous_choice="B",
                               already=False)
    # A vote added after the peek.
    assert tainted_by_peek(peeked_at=peek, choice="B", vote_at=after, previous_choice=None,
                           already=False)
    # Removing the later reactions falls back to a vote added before the peek: a change.
    assert tainted_by_peek(peeked_at=peek, choice="B", vote_at=before, previous_choice="C",
                           already=False)
    # Sticky: going back to the choice held at the peek does not undo it.
    assert tainted_by_peek(peeked_at=peek, choice="B", vote_at=before, previous_choice="C",
                           already=True)
    assert tainted_by_peek(peeked_at=peek, choice="B", vote_at=before, previous_choice="B",
                           already=True)
