"""The accuracy board: share correct with a minimum of attempts, the points board's
tie-breaks after the share, then more attempts; the footer's one-line tie rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from bot.rules import ranking
from bot.rules.accuracy import (
    AccuracyStanding,
    Unranked,
    board,
    rank_by_accuracy,
    tie_rule,
)

T0 = datetime(2027, 1, 4, 8, tzinfo=UTC)


def acc(
    user: str, correct: int, attempts: int, streak: int = 0, first: int = 0
) -> AccuracyStanding:
    return AccuracyStanding(
        user, user.title(), attempts, correct, streak, T0 + timedelta(minutes=first)
    )


def order(standings: list[AccuracyStanding], minimum: int = 1) -> list[tuple[int, str]]:
    return [(r.rank, r.standing.user_id) for r in rank_by_accuracy(standings, minimum).ranked]


def test_share_correct_ranks_so_a_late_joiner_can_lead() -> None:
    veteran = acc("vet", 80, 100)  # answered since the start, 80 %
    newcomer = acc("new", 9, 10, first=60 * 24 * 30)  # joined a month later, 90 %
    assert order([veteran, newcomer], minimum=10) == [(1, "new"), (2, "vet")]


def test_below_the_minimum_listed_apart_most_attempts_first() -> None:
    result = rank_by_accuracy(
        [acc("a", 3, 3), acc("b", 4, 5), acc("c", 1, 4), acc("d", 6, 10)], minimum=5
    )
    assert [(r.rank, r.standing.user_id) for r in result.ranked] == [(1, "b"), (2, "d")]
    assert [(u.standing.user_id, u.needed) for u in result.unranked] == [("c", 1), ("a", 2)]
    assert result.minimum == 5


def test_shares_compare_exactly() -> None:
    """2/3 equals 4/6 (then the tie-breaks decide), 1/3 is above 333/1000."""
    assert order([acc("a", 2, 3, streak=1), acc("b", 4, 6, streak=2)]) == [(1, "b"), (2, "a")]
    assert order([acc("a", 333, 1000), acc("b", 1, 3)]) == [(1, "b"), (2, "a")]


def test_ties_after_the_share_as_the_points_board_then_more_attempts() -> None:
    standings = [
        acc("a", 4, 5, streak=2, first=0),
        acc("b", 8, 10, streak=3, first=9),  # longer streak first
        acc("c", 4, 5, streak=2, first=-5),  # earlier first answer
        acc("d", 8, 10, streak=2, first=0),  # same streak and first answer as a: more attempts
        acc("e", 4, 5, streak=2, first=0),  # equal to a on everything: shares a's rank
    ]
    assert order(standings) == [(1, "b"), (2, "c"), (3, "d"), (4, "a"), (4, "e")]


def test_display_percent_rounds_down() -> None:
    assert [acc("a", c, n).percent for c, n in ((199, 200), (1, 3), (2, 3), (5, 5))] == [
        99,
        33,
        66,
        100,
    ]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        acc("a", 4, 3)
    with pytest.raises(ValueError):
        acc("a", -1, 3)
    with pytest.raises(ValueError):
        rank_by_accuracy([acc("a", 1, 1)], minimum=0)


def test_board_top_and_the_callers_own_entry() -> None:
    standings = [acc(f"u{i:02d}", 10 - i // 2, 10) for i in range(15)] + [acc("late", 2, 2)]
    result = rank_by_accuracy(standings, minimum=5)
    head, mine = board(result, "u12", top=10)
    assert [r.standing.user_id for r in head] == [f"u{i:02d}" for i in range(10)]
    assert mine is not None and mine.standing.user_id == "u12"
    assert board(result, "u03", top=10)[1] is None
    assert board(result, "late", top=10)[1] == Unranked(standing=acc("late", 2, 2), needed=3)
    assert board(result, "nobody", top=10)[1] is None


def test_tie_rule_lines() -> None:
    assert tie_rule("points") == "Ties: longer current streak, then earlier first answer."
    assert (
        tie_rule("accuracy")
        == "Ties: longer current streak, then earlier first answer, then more attempts."
    )


def test_the_points_line_says_what_the_points_board_does() -> None:
    """Each clause of the points board's footer decides an order in ranking.rank."""
    pts = [
        ranking.Standing("a", "A", 5, 1, T0),
        ranking.Standing("b", "B", 5, 2, T0 + timedelta(hours=1)),
    ]
    assert [r.standing.user_id for r in ranking.rank(pts)] == ["b", "a"]  # longer current streak
    pts = [
        ranking.Standing("a", "A", 5, 2, T0 + timedelta(hours=1)),
        ranking.Standing("b", "B", 5, 2, T0),
    ]
    assert [r.standing.user_id for r in ranking.rank(pts)] == [
        "b",
        "a",
    ]  # then earlier first answer


standings = hs.lists(
    hs.builds(
        lambda user, attempts, wrong, streak, first: acc(
            user, max(attempts - wrong, 0), attempts, streak, first
        ),
        hs.text("abcdef", min_size=1, max_size=3),
        hs.integers(0, 30),
        hs.integers(0, 30),
        hs.integers(0, 4),
        hs.integers(0, 3),
    ),
    max_size=25,
    unique_by=lambda s: s.user_id,
)


@given(standings, hs.integers(1, 12))
def test_ranked_and_apart_split_on_the_minimum(
    members: list[AccuracyStanding], minimum: int
) -> None:
    result = rank_by_accuracy(members, minimum)
    assert {r.standing.user_id for r in result.ranked} == {
        m.user_id for m in members if m.attempts >= minimum
    }
    assert {u.standing.user_id for u in result.unranked} == {
        m.user_id for m in members if m.attempts < minimum
    }
    assert all(1 <= u.needed <= minimum for u in result.unranked)
    shares = [r.standing.share for r in result.ranked]
    assert shares == sorted(shares, reverse=True)
    ranks = [r.rank for r in result.ranked]
    assert ranks == sorted(ranks) and (not ranks or ranks[0] == 1)
    for position, entry in enumerate(result.ranked, start=1):
        assert entry.rank <= position  # 1, 1, 3: a shared rank, then the count resumes
        if entry.rank < position:
            assert entry.rank == result.ranked[position - 2].rank


@given(standings)
def test_with_equal_attempts_it_ranks_as_the_points_board_would(
    members: list[AccuracyStanding],
) -> None:
    """Ties are broken the same way everywhere: with every member on the same number of
    attempts, the accuracy board's ranks are ranking.rank's with the share as the points."""
    same = [
        acc(
            m.user_id,
            min(m.correct, 10),
            10,
            m.current_streak,
            int((m.first_answer_at - T0).total_seconds() // 60),
        )
        for m in members
    ]
    mine = [(r.rank, r.standing.user_id) for r in rank_by_accuracy(same, 1).ranked]
    points = ranking.rank(
        [
            ranking.Standing(
                m.user_id, m.display_name, float(m.share), m.current_streak, m.first_answer_at
            )
            for m in same
        ]
    )
    assert mine == [(r.rank, r.standing.user_id) for r in points]
