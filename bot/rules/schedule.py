"""A channel's posting schedule: parse/validate user input, and the slot maths.

A *slot* is one scheduled posting instant (aware, UTC). Slots come from APScheduler's
CronTrigger in the channel's IANA zone, so 09:00 stays 09:00 local across DST changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from apscheduler.triggers.cron import CronTrigger

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIME = time(9, 0)
DEFAULT_TIMEZONE = "UTC"
DEFAULT_DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")


class ScheduleError(ValueError):
    """Bad user input; the message names the valid form (shown to the user verbatim)."""


@dataclass(frozen=True)
class Schedule:
    time: time  # local wall-clock time, minutes precision
    timezone: str  # IANA name, e.g. "Europe/Berlin"
    days: tuple[str, ...]  # subset of WEEKDAYS in week order, non-empty

    def cron_trigger(self) -> CronTrigger:
        """The APScheduler trigger (day_of_week by *names*, never numbers)."""
        raise NotImplementedError

    def describe(self) -> str:
        """E.g. "09:00 Europe/Berlin, mon-fri"."""
        raise NotImplementedError


def parse_time(text: str) -> time:
    """"HH:MM" 24h (also "9:00"); raises ScheduleError naming the valid form."""
    raise NotImplementedError


def parse_timezone(text: str) -> str:
    """A valid IANA zone name ("UTC" allowed); raises ScheduleError with a hint."""
    raise NotImplementedError


def parse_days(text: str) -> tuple[str, ...]:
    """"mon-fri", "mon,wed,fri", "sat-sun", "daily"/"every day", "weekdays", "weekends";
    ranges may wrap ("fri-mon"). Raises ScheduleError listing the valid forms."""
    raise NotImplementedError


def parse_schedule(
    time_text: str | None, timezone_text: str | None, days_text: str | None,
    *, current: Schedule | None = None,
) -> Schedule:
    """Options left out keep `current`'s value, or the defaults (09:00, UTC, mon-fri)."""
    raise NotImplementedError


def next_slot(schedule: Schedule, after: datetime) -> datetime:
    """The first slot strictly after `after` (aware), as aware UTC."""
    raise NotImplementedError


def latest_slot(schedule: Schedule, at: datetime) -> datetime | None:
    """The last slot at or before `at` (looking back at most 8 days), aware UTC."""
    raise NotImplementedError


def slot_day(schedule: Schedule, slot: datetime) -> date:
    """The local calendar day of a slot in the schedule's zone (the claim key)."""
    raise NotImplementedError


def search_timezones(query: str, limit: int = 25) -> list[str]:
    """IANA zone names matching `query` (case-insensitive substring), best first;
    for autocomplete."""
    raise NotImplementedError
