"""Slot maths across DST changes and input parsing with actionable errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.rules.schedule import (
    DEFAULT_DAYS,
    WEEKDAYS,
    Schedule,
    ScheduleError,
    latest_slot,
    next_slot,
    parse_days,
    parse_schedule,
    parse_time,
    parse_timezone,
    search_timezones,
    slot_day,
)

BERLIN_9 = Schedule(time(9, 0), "Europe/Berlin", DEFAULT_DAYS)
NY_9 = Schedule(time(9, 0), "America/New_York", WEEKDAYS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def slots_between(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    found, slot = [], next_slot(schedule, start)
    while slot <= end:
        found.append(slot)
        slot = next_slot(schedule, slot)
    return found


def test_berlin_spring_forward_keeps_nine_local() -> None:
    # 2027-03-28 is a Sunday; Friday 26th is UTC+1, Monday 29th is UTC+2.
    daily = Schedule(time(9, 0), "Europe/Berlin", WEEKDAYS)
    slots = slots_between(daily, utc(2027, 3, 26), utc(2027, 3, 30))
    assert slots == [
        utc(2027, 3, 26, 8), utc(2027, 3, 27, 8), utc(2027, 3, 28, 7), utc(2027, 3, 29, 7)
    ]


def test_berlin_fall_back_keeps_nine_local() -> None:
    daily = Schedule(time(9, 0), "Europe/Berlin", WEEKDAYS)
    slots = slots_between(daily, utc(2027, 10, 30), utc(2027, 11, 1, 12))
    assert slots == [utc(2027, 10, 30, 7), utc(2027, 10, 31, 8), utc(2027, 11, 1, 8)]


def test_new_york_both_changes_shift_the_utc_instant() -> None:
    spring = slots_between(NY_9, utc(2027, 3, 13), utc(2027, 3, 14, 23))
    assert spring == [utc(2027, 3, 13, 14), utc(2027, 3, 14, 13)]  # EST -5 then EDT -4
    fall = slots_between(NY_9, utc(2027, 11, 6), utc(2027, 11, 7, 23))
    assert fall == [utc(2027, 11, 6, 13), utc(2027, 11, 7, 14)]


def test_nonexistent_local_time_fires_once_an_hour_later_on_the_wall() -> None:
    # 02:30 does not exist in Berlin on 2027-03-28 (clocks jump 02:00 -> 03:00 at 01:00 UTC).
    night = Schedule(time(2, 30), "Europe/Berlin", WEEKDAYS)
    slots = slots_between(night, utc(2027, 3, 27, 12), utc(2027, 3, 29, 12))
    assert slots == [utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 0, 30)]
    assert [slot_day(night, s) for s in slots] == [date(2027, 3, 28), date(2027, 3, 29)]


def test_doubled_local_time_fires_once_at_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 2027-10-31 (00:30 UTC and 01:30 UTC).
    night = Schedule(time(2, 30), "Europe/Berlin", WEEKDAYS)
    slots = slots_between(night, utc(2027, 10, 30, 12), utc(2027, 11, 1, 12))
    assert slots == [utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)]
    # From between the two occurrences, the next slot is the following day's.
    assert next_slot(night, utc(2027, 10, 31, 1)) == utc(2027, 11, 1, 1, 30)
    assert latest_slot(night, utc(2027, 10, 31, 2)) == utc(2027, 10, 31, 0, 30)


def test_weekends_are_off_for_mon_fri() -> None:
    # Friday 2027-01-08 09:00 Berlin = 08:00 UTC; the next is Monday the 11th.
    assert next_slot(BERLIN_9, utc(2027, 1, 8, 8)) == utc(2027, 1, 11, 8)
    assert latest_slot(BERLIN_9, utc(2027, 1, 10, 20)) == utc(2027, 1, 8, 8)


def test_boundaries_are_exact() -> None:
    slot = utc(2027, 1, 4, 8)
    assert latest_slot(BERLIN_9, slot) == slot  # at or before
    assert next_slot(BERLIN_9, slot) == utc(2027, 1, 5, 8)  # strictly after
    assert next_slot(BERLIN_9, utc(2027, 1, 4, 7, 59, 59)) == slot
    assert latest_slot(BERLIN_9, utc(2027, 1, 4, 7, 59, 59)) == utc(2027, 1, 1, 8)


def test_latest_slot_is_none_when_nothing_within_eight_days() -> None:
    sundays = Schedule(time(9, 0), "UTC", ("sun",))
    assert latest_slot(sundays, utc(2027, 1, 4, 0)) == utc(2027, 1, 3, 9)
    # A Sunday schedule always has a slot within 8 days; a naive datetime is refused.
    with pytest.raises(ValueError):
        latest_slot(sundays, datetime(2027, 1, 4))


def test_cron_trigger_uses_day_names() -> None:
    trigger = BERLIN_9.cron_trigger()
    assert "mon,tue,wed,thu,fri" in str(trigger)
    assert BERLIN_9.describe() == "09:00 Europe/Berlin, mon-fri"
    assert Schedule(time(7, 5), "UTC", ("mon", "wed", "fri")).describe() == "07:05 UTC, mon,wed,fri"


@pytest.mark.parametrize(("text", "expected"), [("09:00", time(9)), ("9:05", time(9, 5)),
                                                ("23:59", time(23, 59)), (" 00:00 ", time(0))])
def test_parse_time_accepts(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["9", "24:00", "09:60", "9am", "", "09:00:00", "ab:cd"])
def test_parse_time_refuses_with_the_form(text: str) -> None:
    with pytest.raises(ScheduleError, match=r"time must be HH:MM \(24-hour\), e\.g\. 09:00"):
        parse_time(text)


def test_parse_timezone() -> None:
    assert parse_timezone("Europe/Berlin") == "Europe/Berlin"
    assert parse_timezone("europe/berlin") == "Europe/Berlin"
    assert parse_timezone("UTC") == "UTC"
    with pytest.raises(ScheduleError) as err:
        parse_timezone("Europe/Berln")
    assert "Europe/Berlin" in str(err.value)
    assert "IANA" in str(err.value)
    with pytest.raises(ScheduleError, match="did you mean"):
        parse_timezone("Berlin")


@pytest.mark.parametrize(("text", "expected"), [
    ("mon-fri", DEFAULT_DAYS),
    ("mon,wed,fri", ("mon", "wed", "fri")),
    ("sat-sun", ("sat", "sun")),
    ("daily", WEEKDAYS),
    ("every day", WEEKDAYS),
    ("weekdays", DEFAULT_DAYS),
    ("weekends", ("sat", "sun")),
    ("fri-mon", ("mon", "fri", "sat", "sun")),
    ("Wed, Mon", ("mon", "wed")),
    ("monday,friday", ("mon", "fri")),
])
def test_parse_days(text: str, expected: tuple[str, ...]) -> None:
    assert parse_days(text) == expected


@pytest.mark.parametrize("text", ["", "funday", "mon-xyz", "1-5", ","])
def test_parse_days_lists_the_forms(text: str) -> None:
    with pytest.raises(ScheduleError, match=r"mon-fri.*mon,wed,fri.*daily, weekdays, weekends"):
        parse_days(text)


def test_parse_schedule_keeps_current_values() -> None:
    assert parse_schedule(None, None, None) == Schedule(time(9), "UTC", DEFAULT_DAYS)
    current = Schedule(time(7, 30), "Asia/Tokyo", ("sat",))
    changed = parse_schedule("10:15", None, None, current=current)
    assert changed == Schedule(time(10, 15), "Asia/Tokyo", ("sat",))


def test_search_timezones() -> None:
    assert "Europe/Berlin" in search_timezones("berl")
    assert search_timezones("new york")[0] == "America/New_York"
    assert search_timezones("berlin")[0] == "Europe/Berlin"
    assert len(search_timezones("a", limit=5)) == 5
    assert search_timezones("zzzz") == []
