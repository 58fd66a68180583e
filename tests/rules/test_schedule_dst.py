"""Slot maths across daylight-saving changes: one slot per listed local day, every year.

The property walks `next_slot` for 400 days in zones with DST (half-hour Lord Howe,
midnight changes in Havana, Santiago and Tehran's historical rules, Nuuk's skipped hour
ending at midnight) and checks every slot against an oracle that does not use fold: the
wall time's earliest real instant on that day, or on a gap day the wall time read in the
old offset (the module's documented substitute).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.rules.schedule import (
    DEFAULT_DAYS,
    WEEKDAYS,
    Schedule,
    latest_slot,
    next_slot,
    slot_day,
    slot_on_day,
)

ZONES = ["Europe/Berlin", "America/New_York", "Pacific/Auckland", "Australia/Lord_Howe",
         "America/Havana", "America/Santiago", "Asia/Tehran", "America/Nuuk", "UTC"]
WALK = timedelta(days=400)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def expected_slot(schedule: Schedule, day: date) -> datetime:
    """Oracle without fold: try the offsets in force a day either side of the wall time;
    the earliest that reads the wall time wins (fall-back: first occurrence); if none
    does (spring-forward gap), the wall time in the old offset."""
    tz = zoneinfo.ZoneInfo(schedule.timezone)
    naive = datetime.combine(day, schedule.time)
    early = (naive - timedelta(days=1)).replace(tzinfo=UTC).astimezone(tz).utcoffset()
    late = (naive + timedelta(days=1)).replace(tzinfo=UTC).astimezone(tz).utcoffset()
    assert early is not None and late is not None
    candidates = [(naive - off).replace(tzinfo=UTC) for off in (early, late)]
    real = [c for c in candidates if c.astimezone(tz).replace(tzinfo=None) == naive]
    return min(real) if real else candidates[0]


def walk(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    found, slot = [], next_slot(schedule, start)
    while slot <= end:
        found.append(slot)
        slot = next_slot(schedule, slot)
    return found


def listed_days(schedule: Schedule, first: date, last: date) -> list[date]:
    span = (last - first).days + 1
    every = (first + timedelta(days=i) for i in range(span))
    return [d for d in every if WEEKDAYS[d.weekday()] in schedule.days]


# Times near the change hours of the zones above, plus any minute of the day.
CHANGE_TIMES = [time(h, m) for h in (0, 1, 2, 3, 22, 23) for m in (0, 1, 15, 30, 45, 59)]
times = st.one_of(st.sampled_from(CHANGE_TIMES),
                  st.builds(time, st.integers(0, 23), st.integers(0, 59)))
day_sets = st.one_of(
    st.sampled_from([WEEKDAYS, DEFAULT_DAYS, ("sat", "sun")] + [(d,) for d in WEEKDAYS]),
    st.sets(st.sampled_from(WEEKDAYS), min_size=1).map(
        lambda chosen: tuple(d for d in WEEKDAYS if d in chosen)),
)
# 2005-2031: Tehran observed DST until 2022; the others change every year.
starts = st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2031, 1, 1),
                      timezones=st.just(UTC))


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), at=times, days=day_sets, start=starts)
@example(zone="Europe/Berlin", at=time(0, 30), days=WEEKDAYS, start=utc(2027, 1, 1))
@example(zone="Europe/Berlin", at=time(0, 0), days=WEEKDAYS, start=utc(2027, 1, 1))
@example(zone="America/New_York", at=time(0, 30), days=WEEKDAYS, start=utc(2027, 1, 1))
@example(zone="Pacific/Auckland", at=time(1, 30), days=WEEKDAYS, start=utc(2027, 1, 1))
@example(zone="Australia/Lord_Howe", at=time(2, 15), days=WEEKDAYS, start=utc(2027, 1, 1))
@example(zone="Australia/Lord_Howe", at=time(0, 30), days=("sun",), start=utc(2027, 1, 1))
@example(zone="America/Havana", at=time(0, 30), days=WEEKDAYS, start=utc(2027, 1, 1))
@example(zone="America/Santiago", at=time(23, 30), days=WEEKDAYS, start=utc(2027, 1, 1))
@example(zone="Asia/Tehran", at=time(0, 30), days=WEEKDAYS, start=utc(2019, 1, 1))
@example(zone="America/Nuuk", at=time(23, 30), days=("sat", "sun"), start=utc(2027, 1, 1))
def test_one_slot_per_listed_local_day_for_400_days(
    zone: str, at: time, days: tuple[str, ...], start: datetime
) -> None:
    schedule = Schedule(at, zone, days)
    slots = walk(schedule, start, start + WALK)
    assert slots, "every listed day in 400 days has a slot"
    assert all(a < b for a, b in pairwise(slots)), "strictly increasing"
    slot_days = [slot_day(schedule, s) for s in slots]
    # Exactly the listed days between the first and the last, one slot each.
    assert slot_days == listed_days(schedule, slot_days[0], slot_days[-1])
    # Nothing listed is missed at either end of the walk: the slot after the last is past
    # its end, and the one before the first (below) is not after its start.
    assert next_slot(schedule, slots[-1]) > start + WALK
    previous = latest_slot(schedule, slots[0] - timedelta(microseconds=1))
    assert previous is None or previous <= start
    for day, slot in zip(slot_days, slots, strict=True):
        assert slot == expected_slot(schedule, day), (day, slot)
        assert slot == slot_on_day(schedule, day)
        assert latest_slot(schedule, slot) == slot


def test_berlin_midnight_keeps_the_day_after_spring_forward() -> None:
    """The reported bug: 00:00 and 00:30 daily went from the 28th to the 30th."""
    for wall in (time(0, 0), time(0, 30), time(1, 59)):
        daily = Schedule(wall, "Europe/Berlin", WEEKDAYS)
        slots = walk(daily, utc(2027, 3, 27, 12), utc(2027, 3, 30, 12))
        assert [slot_day(daily, s) for s in slots] == [
            date(2027, 3, 28), date(2027, 3, 29), date(2027, 3, 30)]
        assert [s.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).time() for s in slots] == [
            wall] * 3
    half = Schedule(time(0, 30), "Europe/Berlin", WEEKDAYS)
    assert next_slot(half, utc(2027, 3, 27, 23, 30)) == utc(2027, 3, 28, 22, 30)  # 29th, +2


def test_new_york_auckland_lord_howe_keep_the_day_after_spring_forward() -> None:
    ny = Schedule(time(0, 30), "America/New_York", WEEKDAYS)
    assert next_slot(ny, utc(2027, 3, 14, 5, 30)) == utc(2027, 3, 15, 4, 30)  # EDT -4
    auckland = Schedule(time(0, 30), "Pacific/Auckland", WEEKDAYS)  # 2027-09-26 02->03
    assert next_slot(auckland, utc(2027, 9, 25, 12, 30)) == utc(2027, 9, 26, 11, 30)
    lord_howe = Schedule(time(1, 0), "Australia/Lord_Howe", WEEKDAYS)  # 2027-10-03 02->02:30
    assert next_slot(lord_howe, utc(2027, 10, 2, 14, 30)) == utc(2027, 10, 3, 14)
    assert slot_day(lord_howe, utc(2027, 10, 3, 14)) == date(2027, 10, 4)


def test_lord_howe_half_hour_gap_reads_the_old_offset() -> None:
    # 02:15 does not exist on 2027-10-03 (02:00 +10:30 -> 02:30 +11); read at +10:30.
    night = Schedule(time(2, 15), "Australia/Lord_Howe", WEEKDAYS)
    assert slot_on_day(night, date(2027, 10, 3)) == utc(2027, 10, 2, 15, 45)
    wall = utc(2027, 10, 2, 15, 45).astimezone(zoneinfo.ZoneInfo("Australia/Lord_Howe"))
    assert (wall.date(), wall.time()) == (date(2027, 10, 3), time(2, 45))


def test_nuuk_gap_ending_at_midnight_keeps_both_days() -> None:
    """Nuuk skips 23:00-24:00 on Saturday 2027-03-27 (-02 -> -01): 23:30 that day fires
    at 01:30 UTC, which reads 00:30 on Sunday's clocks, yet it is Saturday's slot, and
    Sunday still gets its own 23:30."""
    late = Schedule(time(23, 30), "America/Nuuk", ("sat", "sun"))
    slots = walk(late, utc(2027, 3, 27), utc(2027, 3, 29, 12))
    assert slots == [utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 0, 30)]
    assert [slot_day(late, s) for s in slots] == [date(2027, 3, 27), date(2027, 3, 28)]
    sundays = Schedule(time(23, 30), "America/Nuuk", ("sun",))
    assert next_slot(sundays, utc(2027, 3, 27)) == utc(2027, 3, 29, 0, 30)


def test_fall_back_repeat_is_once_at_first_occurrence_in_every_zone() -> None:
    cases = [("America/New_York", time(1, 30), date(2027, 11, 7), utc(2027, 11, 7, 5, 30)),
             ("America/Santiago", time(23, 30), date(2027, 4, 3), utc(2027, 4, 4, 2, 30)),
             ("America/Havana", time(0, 30), date(2027, 11, 7), utc(2027, 11, 7, 4, 30)),
             ("Australia/Lord_Howe", time(1, 45), date(2027, 4, 4), utc(2027, 4, 3, 14, 45))]
    for zone, wall, day, first in cases:
        daily = Schedule(wall, zone, WEEKDAYS)
        assert slot_on_day(daily, day) == first, zone
        assert next_slot(daily, first - timedelta(seconds=1)) == first
        following = next_slot(daily, first)
        assert slot_day(daily, following) == day + timedelta(days=1), zone


def test_slot_on_day_is_none_for_unlisted_days() -> None:
    weekdays = Schedule(time(9, 0), "Europe/Berlin", DEFAULT_DAYS)
    assert slot_on_day(weekdays, date(2027, 3, 28)) is None  # Sunday
    assert slot_on_day(weekdays, date(2027, 3, 29)) == utc(2027, 3, 29, 7)
