"""A channel without a schedule: each local day's first `/qotd post` is in the sequence,
the day's later posts are extras; local midnight and daylight-saving days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from bot.rules.daily_post import (
    SentPost,
    day_bounds,
    day_start,
    in_sequence,
    is_question_of_the_day,
    local_day,
)
from bot.rules.streaks import PostMoment, Streak, compute_streak


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def firsts(posts: list[SentPost], zone: str) -> list[int]:
    return [p.post_id for p in in_sequence(posts, zone) if p.scheduled]


def test_first_post_of_each_day_is_in_the_sequence() -> None:
    posts = [
        SentPost(1, utc(2027, 1, 4, 9)),
        SentPost(2, utc(2027, 1, 4, 15)),
        SentPost(3, utc(2027, 1, 5, 9)),
        SentPost(4, utc(2027, 1, 7, 8)),  # the 6th had no post: nothing in between
        SentPost(5, utc(2027, 1, 7, 20)),
    ]
    assert in_sequence(posts, "UTC") == [
        PostMoment(1, utc(2027, 1, 4, 9), scheduled=True),
        PostMoment(2, utc(2027, 1, 4, 15), scheduled=False),
        PostMoment(3, utc(2027, 1, 5, 9), scheduled=True),
        PostMoment(4, utc(2027, 1, 7, 8), scheduled=True),
        PostMoment(5, utc(2027, 1, 7, 20), scheduled=False),
    ]


def test_sending_order_not_input_order_and_same_instant_by_id() -> None:
    at = utc(2027, 1, 4, 9)
    posts = [SentPost(7, at + timedelta(hours=1)), SentPost(6, at), SentPost(5, at)]
    assert [(p.post_id, p.scheduled) for p in in_sequence(posts, "UTC")] == [
        (5, True),
        (6, False),
        (7, False),
    ]


def test_local_midnight_not_utc_midnight() -> None:
    """Berlin (UTC+1 in January): 22:30 and 23:30 UTC on the 4th are 23:30 on the 4th and
    00:30 on the 5th there, two days; in New York both are the 4th."""
    posts = [SentPost(1, utc(2027, 1, 4, 22, 30)), SentPost(2, utc(2027, 1, 4, 23, 30))]
    assert firsts(posts, "Europe/Berlin") == [1, 2]
    assert firsts(posts, "America/New_York") == [1]
    # and 23:59 / 00:00 local are two days; 00:00 begins the new one
    edge = [SentPost(1, utc(2027, 1, 4, 22, 59, 59)), SentPost(2, utc(2027, 1, 4, 23))]
    assert firsts(edge, "Europe/Berlin") == [1, 2]
    assert local_day(utc(2027, 1, 4, 23), "Europe/Berlin") == date(2027, 1, 5)


def test_spring_forward_at_midnight_havana() -> None:
    """Havana skips 00:00-01:00 on 2027-03-14: that day begins at the change (05:00 UTC,
    01:00 local) and lasts 23 hours; the minute before it is still the 13th."""
    start, end = day_bounds(date(2027, 3, 14), "America/Havana")
    assert (start, end - start) == (utc(2027, 3, 14, 5), timedelta(hours=23))
    posts = [
        SentPost(1, utc(2027, 3, 14, 4, 59)),
        SentPost(2, utc(2027, 3, 14, 5)),
        SentPost(3, utc(2027, 3, 15, 3, 59)),
    ]
    assert firsts(posts, "America/Havana") == [1, 2]
    assert local_day(utc(2027, 3, 14, 4, 59), "America/Havana") == date(2027, 3, 13)


def test_fall_back_repeats_midnight_havana() -> None:
    """Havana repeats 00:00-01:00 on 2027-11-07: a post at the first 00:30 and one at the
    second are on the same day (25 hours long), so the second is an extra."""
    start, end = day_bounds(date(2027, 11, 7), "America/Havana")
    assert (start, end - start) == (utc(2027, 11, 7, 4), timedelta(hours=25))
    first, again = utc(2027, 11, 7, 4, 30), utc(2027, 11, 7, 5, 30)
    zone = ZoneInfo("America/Havana")
    assert first.astimezone(zone).replace(tzinfo=None) == again.astimezone(zone).replace(
        tzinfo=None
    )
    assert firsts([SentPost(1, first), SentPost(2, again)], "America/Havana") == [1]
    assert not is_question_of_the_day(again, [first], "America/Havana")


def test_repeated_hour_before_midnight_santiago() -> None:
    """Santiago repeats 23:00-24:00 on Saturday 2027-04-03: both 23:30s are the 3rd, and
    the 4th begins once, at 04:00 UTC."""
    posts = [
        SentPost(1, utc(2027, 4, 4, 2, 30)),
        SentPost(2, utc(2027, 4, 4, 3, 30)),
        SentPost(3, utc(2027, 4, 4, 4)),
    ]
    assert firsts(posts, "America/Santiago") == [1, 3]
    assert day_start(date(2027, 4, 4), "America/Santiago") == utc(2027, 4, 4, 4)
    start, end = day_bounds(date(2027, 4, 3), "America/Santiago")
    assert end - start == timedelta(hours=25)


def test_berlin_change_days_have_one_first_post() -> None:
    # 2027-10-31: 02:30 CEST (00:30 UTC) and 02:30 CET (01:30 UTC) are one day
    assert firsts(
        [SentPost(1, utc(2027, 10, 31, 0, 30)), SentPost(2, utc(2027, 10, 31, 1, 30))],
        "Europe/Berlin",
    ) == [1]
    # 2027-03-28 is 23 hours: 00:30 CET and 23:30 CEST are the same day, 00:30 the next is not
    posts = [
        SentPost(1, utc(2027, 3, 27, 23, 30)),
        SentPost(2, utc(2027, 3, 28, 21, 30)),
        SentPost(3, utc(2027, 3, 28, 22, 30)),
    ]
    assert firsts(posts, "Europe/Berlin") == [1, 3]


def test_streaks_count_in_a_channel_without_a_schedule() -> None:
    """Today such a channel's streak is always 0; with the day's first post in the
    sequence, answering each day's question makes a streak, and an answer counts until
    the next day's first post (the day's extra does not close it)."""
    posts = [
        SentPost(1, utc(2027, 1, 4, 9)),
        SentPost(2, utc(2027, 1, 4, 12)),  # an extra
        SentPost(3, utc(2027, 1, 5, 10)),
        SentPost(4, utc(2027, 1, 6, 10)),
    ]
    moments = in_sequence(posts, "UTC")
    attempts = {1: utc(2027, 1, 4, 13), 3: utc(2027, 1, 5, 11), 4: utc(2027, 1, 6, 11)}
    assert compute_streak(moments, attempts) == Streak(current=3, best=3)
    # answering only the extra does not count for the day
    assert compute_streak(moments, {2: utc(2027, 1, 4, 13), 3: utc(2027, 1, 5, 11)}) == Streak(1, 1)
    # day 1 answered after day 2's question was out: too late
    assert compute_streak(moments, {1: utc(2027, 1, 5, 10, 1), 3: utc(2027, 1, 5, 11)}) == Streak(
        1, 1
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        local_day(datetime(2027, 1, 4, 9), "UTC")
    with pytest.raises(ValueError):
        in_sequence([SentPost(1, datetime(2027, 1, 4, 9))], "UTC")
    with pytest.raises(ValueError):  # mixed with aware ones: refused, not a TypeError
        in_sequence([SentPost(1, utc(2027, 1, 4)), SentPost(2, datetime(2027, 1, 4, 9))], "UTC")


def test_a_skipped_day_has_no_posts() -> None:
    """Pacific/Apia went from 29 to 31 December 2011: the 30th is empty, and a post at the
    change is the 31st's."""
    start, end = day_bounds(date(2011, 12, 30), "Pacific/Apia")
    assert start == end == utc(2011, 12, 30, 10)
    assert local_day(utc(2011, 12, 30, 10), "Pacific/Apia") == date(2011, 12, 31)


ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/Havana",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Nuuk",
]
instants = hs.datetimes(datetime(2010, 1, 1), datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@given(instants, hs.sampled_from(ZONES))
def test_every_instant_is_inside_its_local_day(moment: datetime, zone: str) -> None:
    start, end = day_bounds(local_day(moment, zone), zone)
    assert start <= moment < end


@given(hs.lists(instants, max_size=30), hs.sampled_from(ZONES))
def test_one_first_post_per_local_day_the_earliest(times: list[datetime], zone: str) -> None:
    posts = [SentPost(i, t) for i, t in enumerate(times)]
    moments = in_sequence(posts, zone)
    firsts_by_day = {local_day(m.posted_at, zone): m for m in moments if m.scheduled}
    assert len(firsts_by_day) == sum(1 for m in moments if m.scheduled)
    assert set(firsts_by_day) == {local_day(t, zone) for t in times}
    for m in moments:
        day = local_day(m.posted_at, zone)
        if not m.scheduled:
            assert (firsts_by_day[day].posted_at, firsts_by_day[day].post_id) < (
                m.posted_at,
                m.post_id,
            )
        earlier = [o.posted_at for o in moments[: moments.index(m)]]
        assert is_question_of_the_day(m.posted_at, earlier, zone) == m.scheduled
