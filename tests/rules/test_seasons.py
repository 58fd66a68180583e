"""Seasons of 1, 2, 3, 4, 6 or 12 months anchored on 1 January in the workspace's zone:
the season of a moment, its label, the previous one, and each close exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import example, given
from hypothesis import strategies as hs

from bot.rules.inputs import InputError
from bot.rules.ranking import period_start
from bot.rules.seasons import (
    SEASON_MONTHS,
    Season,
    closed_between,
    parse_season_months,
    previous_season,
    season_of,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_labels_for_every_length() -> None:
    may = utc(2027, 5, 10, 12)
    labels = {months: season_of(may, "UTC", months).label for months in SEASON_MONTHS}
    assert labels == {
        1: "May 2027",
        2: "May–Jun 2027",
        3: "2027 Q2",
        4: "May–Aug 2027",
        6: "2027 H1",
        12: "2027",
    }
    assert season_of(utc(2027, 12, 31), "UTC", 2).label == "Nov–Dec 2027"
    assert season_of(utc(2027, 2, 1), "UTC", 2).label == "Jan–Feb 2027"


def test_quarters_are_the_default() -> None:
    season = season_of(utc(2027, 2, 14), "UTC")
    assert (season.label, season.start, season.end) == ("2027 Q1", utc(2027, 1, 1), utc(2027, 4, 1))


def test_bounds_are_local_midnight() -> None:
    """Berlin: Q2 begins 1 April 00:00 CEST (31 March 22:00 UTC), after the change to
    summer time; Q1 began 1 January 00:00 CET (31 December 23:00 UTC)."""
    q2 = season_of(utc(2027, 5, 1), "Europe/Berlin")
    assert (q2.start, q2.end) == (utc(2027, 3, 31, 22), utc(2027, 6, 30, 22))
    assert q2.previous().start == utc(2026, 12, 31, 23)
    # 23:30 UTC on 31 March is already April in Berlin, still March in UTC
    late = utc(2027, 3, 31, 23, 30)
    assert season_of(late, "Europe/Berlin").label == "2027 Q2"
    assert season_of(late, "UTC").label == "2027 Q1"
    # the first instant is in the new season, the one before in the old
    assert season_of(q2.start, "Europe/Berlin") == q2
    assert season_of(q2.start - timedelta(microseconds=1), "Europe/Berlin") == q2.previous()


def test_a_season_beginning_on_a_skipped_midnight() -> None:
    """Havana skipped 00:00-01:00 on 2012-04-01 and Asunción on 2023-10-01: the quarter
    begins at the change instant, the first that reads the 1st."""
    q2 = season_of(utc(2012, 5, 1), "America/Havana")
    assert q2.start == utc(2012, 4, 1, 5)
    assert season_of(utc(2012, 4, 1, 4, 59, 59), "America/Havana").label == "2012 Q1"
    q4 = season_of(utc(2023, 11, 1), "America/Asuncion")
    assert q4.start == utc(2023, 10, 1, 4)
    assert season_of(utc(2023, 10, 1, 3, 59), "America/Asuncion").label == "2023 Q3"


def test_a_season_beginning_on_a_repeated_midnight() -> None:
    """Havana repeats 00:00-01:00 on 2026-11-01: November begins at the first 00:00."""
    november = season_of(utc(2026, 11, 15), "America/Havana", 1)
    assert november.start == utc(2026, 11, 1, 4)
    assert season_of(utc(2026, 11, 1, 5, 30), "America/Havana", 1) == november  # the second 00:30


def test_previous_and_next_cross_the_year() -> None:
    q1 = season_of(utc(2027, 1, 5), "UTC")
    assert q1.previous() == Season(2026, 4, 3, "UTC")
    assert q1.previous().label == "2026 Q4"
    assert Season(2026, 4, 3, "UTC").next() == q1
    assert previous_season(utc(2027, 1, 5), "UTC", 12).label == "2026"
    assert previous_season(utc(2027, 7, 1), "UTC", 6).label == "2027 H1"


def test_closed_between_half_open() -> None:
    """(after, until]: the close at the season's end instant is in the window ending at
    it, not in the next one."""
    end_q1 = utc(2027, 4, 1)
    assert [s.label for s in closed_between(utc(2027, 3, 31), end_q1, "UTC")] == ["2027 Q1"]
    assert closed_between(end_q1, utc(2027, 4, 2), "UTC") == []
    assert closed_between(utc(2027, 3, 31), end_q1 - timedelta(microseconds=1), "UTC") == []
    assert closed_between(end_q1, end_q1, "UTC") == []
    assert closed_between(utc(2027, 5, 1), utc(2027, 4, 1), "UTC") == []  # backwards: none


def test_closed_between_after_an_outage() -> None:
    closed = closed_between(utc(2027, 2, 1), utc(2027, 10, 2), "Europe/Berlin")
    assert [s.label for s in closed] == ["2027 Q1", "2027 Q2", "2027 Q3"]
    months = closed_between(utc(2027, 1, 15), utc(2027, 3, 15), "UTC", 1)
    assert [s.label for s in months] == ["Jan 2027", "Feb 2027"]


def test_keys_name_one_season_each() -> None:
    assert season_of(utc(2027, 5, 1), "UTC").key == "2027-04/3"
    assert season_of(utc(2027, 5, 1), "UTC", 1).key == "2027-05/1"
    assert season_of(utc(2027, 5, 1), "UTC", 12).key == "2027-01/12"


def test_bad_lengths_and_naive_times_are_refused() -> None:
    for months in (0, 5, 7, 24):
        with pytest.raises(ValueError):
            season_of(utc(2027, 1, 1), "UTC", months)
    with pytest.raises(ValueError):
        Season(2027, 5, 3, "UTC")
    with pytest.raises(ValueError):
        season_of(datetime(2027, 1, 1), "UTC")
    with pytest.raises(ValueError):
        closed_between(datetime(2027, 1, 1), utc(2027, 5, 1), "UTC")


def test_parse_season_months() -> None:
    assert [
        parse_season_months(t)
        for t in ("3", " 6 months ", "1 month", "12m", "Quarter", "half", "year")
    ] == [3, 6, 1, 12, 3, 6, 12]
    for bad in ("5", "0", "", "٣", "3 weeks", "99999999999999999999"):
        with pytest.raises(InputError) as caught:
            parse_season_months(bad)
        assert "1, 2, 3, 4, 6 or 12" in str(caught.value)


ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/Havana",
    "America/Asuncion",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Nuuk",
]
instants = hs.datetimes(datetime(2000, 1, 1), datetime(2035, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@given(instants, hs.sampled_from(ZONES), hs.sampled_from(SEASON_MONTHS))
@example(utc(2012, 4, 1, 5), "America/Havana", 3)
@example(utc(2026, 11, 1, 5, 30), "America/Havana", 1)
def test_a_moment_is_inside_its_season(moment: datetime, zone: str, months: int) -> None:
    season = season_of(moment, zone, months)
    assert season.contains(moment)
    assert season.previous().end == season.start
    assert season.previous().next() == season
    assert season.first_month % months == 1 % months


@given(instants, hs.sampled_from(ZONES))
def test_one_month_seasons_begin_where_the_month_board_does(moment: datetime, zone: str) -> None:
    assert season_of(moment, zone, 1).start == period_start("month", moment, zone)


@given(
    hs.lists(instants, min_size=2, max_size=8),
    hs.sampled_from(ZONES),
    hs.sampled_from(SEASON_MONTHS),
)
def test_each_season_closes_once_across_consecutive_windows(
    times: list[datetime], zone: str, months: int
) -> None:
    """A job that looks at t0, t1, ... posts every close between t0 and the last look,
    each once, in order, each at a look no earlier than its end."""
    times = sorted(times)
    seen: list[Season] = []
    for after, until in pairwise(times):
        for season in closed_between(after, until, zone, months):
            assert after < season.end <= until
            seen.append(season)
    assert seen == closed_between(times[0], times[-1], zone, months)
    assert len({s.key for s in seen}) == len(seen)
    assert all(a.next() == b for a, b in pairwise(seen))
