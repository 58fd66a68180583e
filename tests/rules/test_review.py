"""Personal review rules: the rating an attempt gives, a card's life through the real
fsrs scheduler, the buttons' actions, due counts and mastery."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating, State

from bot.clock import FakeClock
from bot.rules import review as rules
from bot.rules.review import CardFacts, ReviewAction

MONDAY = datetime(2027, 3, 1, 9, 5, tzinfo=UTC)

GRADES = [None, "again", "hard", "good", "easy"]
CHOICES = [None, "A"]
SIGNALS = [None, "yes", "no"]


def _expected(choice: str | None, signal: str | None, grade: str | None, peeked: bool,
              correct: bool | None) -> Rating | None:
    if grade is not None:
        return {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good,
                "easy": Rating.Easy}[grade]
    if choice is not None:
        if correct:
            return Rating.Hard if peeked else Rating.Good
        return Rating.Again
    if signal == "yes":
        return Rating.Good
    if signal == "no":
        return Rating.Again
    return None


@pytest.mark.parametrize(
    ("choice", "signal", "grade", "peeked", "correct"),
    list(itertools.product(CHOICES, SIGNALS, GRADES, [False, True], [None, False, True])),
)
def test_every_combination_of_facts_rates_as_the_issue_says(
        choice: str | None, signal: str | None, grade: str | None, peeked: bool,
        correct: bool | None) -> None:
    got = rules.rating_of(choice=choice, signal=signal, grade=grade, peeked_before=peeked,
                          correct=correct)
    assert got == _expected(choice, signal, grade, peeked, correct)


def test_the_named_cases() -> None:
    def r(**kw: object) -> Rating | None:
        facts: dict[str, object] = {"choice": None, "signal": None, "grade": None,
                                    "peeked_before": False, "correct": None}
        facts.update(kw)
        return rules.rating_of(**facts)  # type: ignore[arg-type]

    assert r(choice="B", correct=False) is Rating.Again  # a wrong choice
    assert r(choice="B", correct=True) is Rating.Good  # a correct choice
    assert r(choice="B", correct=True, peeked_before=True) is Rating.Hard  # after a peek
    assert r(signal="yes") is Rating.Good  # ✅ I knew it
    assert r(signal="no") is Rating.Again  # ❌ not yet
    assert r(signal="yes", grade="again") is Rating.Again  # the grade wins
    assert r(signal="no", grade="easy") is Rating.Easy
    assert r() is None


def test_missed_on_monday_is_due_again_within_a_day() -> None:
    clock = FakeClock(MONDAY)
    card = rules.replay(clock.now(), [(clock.now(), int(Rating.Again))])
    assert card.reviews == 1 and card.state == int(State.Learning)
    assert clock.now() < card.due <= clock.now() + timedelta(days=1)
    clock.advance(timedelta(days=1))
    assert card.due <= clock.now()  # Tuesday: due


def test_easy_is_not_due_for_days() -> None:
    card = rules.replay(MONDAY, [(MONDAY, int(Rating.Easy))])
    assert card.state == int(State.Review)
    assert card.due >= MONDAY + timedelta(days=3)


def test_replay_is_deterministic_and_orders_by_time() -> None:
    reviews = [(MONDAY + timedelta(days=1), int(Rating.Good)), (MONDAY, int(Rating.Again))]
    assert rules.replay(MONDAY, reviews) == rules.replay(MONDAY, list(reversed(reviews)))


def test_lapses_count_again_on_a_card_in_review() -> None:
    easy = rules.replay(MONDAY, [(MONDAY, int(Rating.Easy))])
    later = easy.due + timedelta(hours=1)
    lapsed = rules.replay(MONDAY, [(MONDAY, int(Rating.Easy)), (later, int(Rating.Again))])
    assert lapsed.lapses == 1 and lapsed.state == int(State.Relearning)
    assert lapsed.reviews == 2


def test_a_card_never_reviewed_is_new_and_due_at_creation() -> None:
    card = rules.replay(MONDAY, [])
    assert card == rules.new_card(MONDAY)
    assert card.reviews == 0 and card.due == MONDAY
    assert rules.retrievability(card, MONDAY) == 0.0


def test_retrievability_falls_with_time() -> None:
    card = rules.replay(MONDAY, [(MONDAY, int(Rating.Good)),
                                 (MONDAY + timedelta(minutes=20), int(Rating.Good))])
    soon = rules.retrievability(card, MONDAY + timedelta(hours=1))
    later = rules.retrievability(card, MONDAY + timedelta(days=30))
    assert 0.0 < later < soon <= 1.0


def test_actions_round_trip_and_fit_the_button_limit() -> None:
    for action in (ReviewAction(rules.CHOOSE, 2_147_483_647, 1_000_000, "J"),
                   ReviewAction(rules.SHOW, 1, 0),
                   ReviewAction(rules.RATE, 7, 3, "4"),
                   ReviewAction(rules.SHARE, 12),
                   ReviewAction(rules.FORGET, 12)):
        text = rules.action_text(action)
        assert len(text) <= 90 and rules.is_review_action(text)
        assert rules.parse_action(text) == action


@pytest.mark.parametrize("text", [
    "rv", "rv:", "rv:c", "rv:c:1", "rv:c:1:0", "rv:c:1:0:K", "rv:c:1:0:AB", "rv:r:1:0:5",
    "rv:r:1:0:0", "rv:s:1:0:x", "rv:s:0:0", "rv:s:-1:0", "rv:s:²:0", "rv:s:1:١",
    "rv:s:99999999999:0", "rv:s:1:9999999", "rv:sh", "rv:sh:1:2", "rv:zz:1:0",
    "grade:1:good", "rv:s:1:0" + "0" * 90,
])
def test_forged_actions_are_refused(text: str) -> None:
    assert rules.parse_action(text) is None


def test_due_counts_are_cumulative() -> None:
    now = MONDAY
    end_of_day = now.replace(hour=23, minute=59)
    dues = [now - timedelta(days=2), now, now + timedelta(hours=3), now + timedelta(days=3),
            now + timedelta(days=9)]
    assert rules.due_counts(dues, now, end_of_day) == rules.DueCounts(2, 3, 4)


def test_mastery_and_the_weakest_topics() -> None:
    good = rules.replay(MONDAY, [(MONDAY, int(Rating.Easy))])
    bad = rules.replay(MONDAY, [(MONDAY, int(Rating.Again))])
    fresh = rules.new_card(MONDAY)
    now = MONDAY + timedelta(days=2)
    cards = [CardFacts("Monitoring", bad), CardFacts("Monitoring", good),
             CardFacts("Deployment", good), CardFacts("", bad), CardFacts("Features", fresh)]
    topics = rules.mastery(cards, now)
    assert [t.topic for t in topics] == ["Deployment", "Features", "General", "Monitoring"]
    by = {t.topic: t for t in topics}
    assert by["Monitoring"].cards == 2 and by["Monitoring"].reviews == 2
    assert by["Features"].reviewed == 0 and by["Features"].retrievability == 0.0
    weakest = rules.weakest(topics)
    assert [t.topic for t in weakest] == ["General", "Monitoring", "Deployment"]
    assert "Features" not in [t.topic for t in weakest]  # new cards are not forgotten ones


def test_weekly_counts_oldest_first() -> None:
    now = MONDAY
    times = [now, now - timedelta(days=1), now - timedelta(days=8), now - timedelta(days=60)]
    assert rules.weekly_counts(times, now) == (0, 0, 0, 0, 0, 0, 1, 2)
