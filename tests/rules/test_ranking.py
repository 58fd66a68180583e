"""Leaderboard periods in local time and tie-breaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from bot.rules.ranking import Standing, board, period_start, place_in_group, rank

T0 = datetime(2027, 1, 4, 8, tzinfo=UTC)


def st(user: str, pts: float, streak: int = 0, first: int = 0) -> Standing:
    return Standing(user, user.title(), pts, streak, T0 + timedelta(minutes=first))


def test_week_starts_monday_midnight_local() -> None:
    # Sunday 2027-01-10 23:30 UTC is already Monday 00:30 in Berlin: a new week there.
    now = datetime(2027, 1, 10, 23, 30, tzinfo=UTC)
    assert period_start("week", now, "Europe/Berlin") == datetime(2027, 1, 10, 23, tzinfo=UTC)
    assert period_start("week", now, "UTC") == datetime(2027, 1, 4, tzinfo=UTC)
    # ...and in New York it is still Sunday evening of the week that began Monday 4th.
    assert period_start("week", now, "America/New_York") == datetime(2027, 1, 4, 5, tzinfo=UTC)


def test_month_start_near_midnight() -> None:
    now = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # Feb 1st 00:30 in Berlin
    assert period_start("month", now, "Europe/Berlin") == datetime(2027, 1, 31, 23, tzinfo=UTC)
    assert period_start("month", now, "UTC") == datetime(2027, 1, 1, tzinfo=UTC)


def test_across_dst() -> None:
    # Wednesday 2027-03-31 (CEST, +2): the week began Monday 29th 00:00 CEST = 28th 22:00 UTC.
    now = datetime(2027, 3, 31, 12, tzinfo=UTC)
    assert period_start("week", now, "Europe/Berlin") == datetime(2027, 3, 28, 22, tzinfo=UTC)
    # The month began 1 March 00:00 CET (+1) = Feb 28th 23:00 UTC.
    assert period_start("month", now, "Europe/Berlin") == datetime(2027, 2, 28, 23, tzinfo=UTC)
    # The week of the change: Monday 22nd 00:00 CET = 21st 23:00 UTC, even on Sunday 28th CEST.
    sunday = datetime(2027, 3, 28, 20, tzinfo=UTC)
    assert period_start("week", sunday, "Europe/Berlin") == datetime(2027, 3, 21, 23, tzinfo=UTC)


def test_all_has_no_start_and_naive_is_refused() -> None:
    assert period_start("all", T0, "UTC") is None
    with pytest.raises(ValueError):
        period_start("week", datetime(2027, 1, 4), "UTC")


def test_ties_broken_by_streak_then_first_answer() -> None:
    ranked = rank([st("a", 5, 1, 0), st("b", 5, 3, 9), st("c", 5, 3, 2), st("d", 7)])
    assert [(r.rank, r.standing.user_id) for r in ranked] == [(1, "d"), (2, "c"), (3, "b"), (4, "a")]


def test_full_tie_shares_a_rank() -> None:
    ranked = rank([st("b", 2, 1, 0), st("a", 2, 1, 0), st("c", 1)])
    assert [(r.rank, r.standing.user_id) for r in ranked] == [(1, "a"), (1, "b"), (3, "c")]


def test_board_adds_the_caller_outside_the_top() -> None:
    ranked = rank([st(f"u{i:02}", 100 - i) for i in range(15)])
    top, mine = board(ranked, "u12")
    assert [r.standing.user_id for r in top] == [f"u{i:02}" for i in range(10)]
    assert mine is not None and mine.rank == 13
    assert board(ranked, "u03")[1] is None
    assert board(ranked, "nobody")[1] is None
    assert board([], "x") == ([], None)


@given(hs.lists(hs.tuples(hs.sampled_from([0.0, 0.5, 1.0, 2.0]), hs.integers(0, 3),
                          hs.integers(0, 3)), min_size=1, max_size=30),
       hs.data())
def test_place_in_group_is_the_rank_of_that_member(entries: list[tuple[float, int, int]],
                                                   data: hs.DataObject) -> None:
    """Few distinct values, so ties on every key are common."""
    base = datetime(2027, 3, 1, tzinfo=UTC)
    standings = [Standing(f"u{i}", f"U{i}", p, s, base + timedelta(minutes=m))
                 for i, (p, s, m) in enumerate(entries)]
    mine = data.draw(hs.sampled_from(standings))
    others = [(o.points, o.current_streak, o.first_answer_at)
              for o in standings if o is not mine]
    want = next(r.rank for r in rank(standings) if r.standing is mine)
    assert place_in_group(mine, others) == want
