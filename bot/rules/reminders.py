"""A person's daily review nudge: reading `/review remind`, and when it is next due.

Pure. A reminder is a local wall-clock time in the person's IANA zone, every day. Its
instants follow the channel schedules' rules (bot.rules.schedule, whose parsers it
uses; tests check the instants agree with its slot maths): 08:30 Europe/Berlin stays
08:30 on the days the clocks change, a time that does not exist on the spring-forward
day fires once (at the instant it would have been in the old offset), and a time that
happens twice on the fall-back day fires once, the first time.
One nudge per *local* day is the claim's key (`nudge_day`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.rules.schedule import (
    TIME_FORM,
    WEEKDAYS,
    Schedule,
    ScheduleError,
    parse_time,
    parse_timezone,
)

OFF_WORDS = frozenset({"off", "stop", "none", "disable", "no"})
REMIND_EXAMPLE = "/review remind time:08:30 timezone:Europe/Berlin (or /review remind off)"


@dataclass(frozen=True)
class ReminderTime:
    """When a person wants their nudge: `at` local time in `timezone` (IANA), daily."""

    at: time
    timezone: str

    @property
    def schedule(self) -> Schedule:
        return Schedule(time=self.at, timezone=self.timezone, days=WEEKDAYS)

    def describe(self) -> str:
        """E.g. "08:30 Europe/Berlin"."""
        return f"{self.at:%H:%M} {self.timezone}"


@dataclass(frozen=True)
class RemindOff:
    """`/review remind off`: stop the nudges."""


def is_off(text: str | None) -> bool:
    return text is not None and text.strip().lower() in OFF_WORDS


def parse_reminder(time_text: str | None, timezone_text: str | None, *,
                   current: ReminderTime | None = None,
                   default_timezone: str = "UTC") -> ReminderTime | RemindOff:
    """The reminder `/review remind` asks for. `time:off` turns it off. An option left
    out keeps `current`'s value; a new reminder needs a time, and takes
    `default_timezone` (the channel's zone, else UTC) when no zone is given. Every bad
    option is reported: the ScheduleError's `problems` holds one line each, each with
    the form and an example."""
    if is_off(time_text):
        if timezone_text is not None and timezone_text.strip():
            raise ScheduleError("`off` takes no timezone: use /review remind off")
        return RemindOff()
    problems: list[str] = []
    at: time | None = current.at if current is not None else None
    zone = current.timezone if current is not None else default_timezone
    if time_text is not None:
        try:
            at = parse_time(time_text)
        except ScheduleError as exc:
            problems.append(f"{exc}; e.g. {REMIND_EXAMPLE}")
    elif at is None:
        problems.append(f"{TIME_FORM}: say when, e.g. {REMIND_EXAMPLE}")
    if timezone_text is not None:
        try:
            zone = parse_timezone(timezone_text)
        except ScheduleError as exc:
            problems.append(f"{exc}; e.g. {REMIND_EXAMPLE}")
    if problems:
        raise ScheduleError(*problems)
    assert at is not None
    return ReminderTime(at=at, timezone=zone)


def reminder_of(local_time: str, timezone: str) -> ReminderTime:
    """A stored reminder ("HH:MM", zone) as a ReminderTime."""
    return ReminderTime(at=parse_time(local_time), timezone=timezone)


def nudge_on(reminder: ReminderTime, day: date) -> datetime:
    """The nudge instant of a local `day`, aware UTC: the wall time read with fold=0,
    which is the slot maths of bot.rules.schedule for every day (tests check they
    agree across the changes): a time the spring-forward skips is read in the old
    offset, a time the fall-back repeats is its first occurrence. Computed directly
    rather than through the CronTrigger (a tenth of the time; a run of 20,000
    reminders calls this a few times each)."""
    local = datetime.combine(day, reminder.at, tzinfo=_zone(reminder.timezone))
    return local.astimezone(UTC)


def next_nudge(reminder: ReminderTime, after: datetime) -> datetime:
    """The first nudge instant strictly after `after` (aware), as aware UTC."""
    if after.tzinfo is None:
        raise ValueError("next_nudge needs an aware datetime")
    day = after.astimezone(_zone(reminder.timezone)).date()
    for offset in range(3):
        moment = nudge_on(reminder, day + timedelta(days=offset))
        if moment > after:
            return moment
    raise AssertionError("a daily reminder always has a next instant")  # pragma: no cover


def latest_nudge(reminder: ReminderTime, at: datetime) -> datetime:
    """The last nudge instant at or before `at`, aware UTC."""
    if at.tzinfo is None:
        raise ValueError("latest_nudge needs an aware datetime")
    day = at.astimezone(_zone(reminder.timezone)).date()
    for offset in range(3):
        moment = nudge_on(reminder, day - timedelta(days=offset))
        if moment <= at:
            return moment
    raise AssertionError("a daily reminder always has an earlier instant")  # pragma: no cover


def nudge_day(reminder: ReminderTime, instant: datetime) -> date:
    """The person's local calendar day of a nudge instant (the claim's key)."""
    return instant.astimezone(_zone(reminder.timezone)).date()


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Due:
    """What a reminder whose `next_at` has come should do at `now`: nudge for `day`
    (its instant `at`, within grace) or let it pass (`day` None: the bot was down past
    the grace window), and plan the next one at `following`."""

    day: date | None
    at: datetime | None
    following: datetime


def due_now(reminder: ReminderTime, next_at: datetime, now: datetime,
            grace: timedelta) -> Due:
    """A missed time (the bot was down) within `grace` still nudges, once, late; past
    it the day is let go. Days further back are never nudged: one message, for today
    at most."""
    latest = latest_nudge(reminder, now)
    following = next_nudge(reminder, now)
    if now - latest > grace:
        return Due(None, None, following)
    return Due(nudge_day(reminder, latest), latest, following)
