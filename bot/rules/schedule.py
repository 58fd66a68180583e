"""A channel's posting schedule: parse/validate user input, and the slot maths.

A *slot* is one scheduled posting instant (aware, UTC). Slots come from APScheduler's
CronTrigger in the channel's IANA zone, so 09:00 stays 09:00 local across DST changes.

Daylight-saving edge cases (checked in tests/rules/test_schedule.py):

* a local time that does not exist on the spring-forward day (02:30 in Europe/Berlin on
  2027-03-28) fires once, at the instant that wall time would have been in the old offset
  (01:30 UTC, which reads 03:30 on local clocks); the day is not skipped;
* a local time that happens twice on the fall-back day (02:30 on 2027-10-31) fires once,
  at its first occurrence. APScheduler's trigger yields both; `next_slot` drops the second
  so there is exactly one slot per local day (the database claim on the local day is the
  second line of defence).
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from apscheduler.triggers.cron import CronTrigger

from bot.rules import zones
from bot.rules.inputs import InputError, shown

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIME = time(9, 0)
DEFAULT_TIMEZONE = "UTC"
DEFAULT_DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")

DAYS_FORMS = (
    "days must be one of: a range like mon-fri or fri-mon, a list like mon,wed,fri, "
    "or daily, weekdays, weekends (day names: mon tue wed thu fri sat sun)"
)
TIME_FORM = "time must be HH:MM (24-hour), e.g. 09:00"

_NAMED_DAYS: dict[str, tuple[str, ...]] = {
    "daily": WEEKDAYS,
    "every day": WEEKDAYS,
    "everyday": WEEKDAYS,
    "all": WEEKDAYS,
    "weekdays": DEFAULT_DAYS,
    "weekends": ("sat", "sun"),
    "weekend": ("sat", "sun"),
}
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")  # ASCII digits: \d takes "١٢:٠٠" too
_LOOKBACK = timedelta(days=8)


class ScheduleError(InputError):
    """Bad user input; the message names the valid form (shown to the user verbatim).
    parse_schedule raises one with a line per bad option (`problems`)."""


@dataclass(frozen=True)
class Schedule:
    time: time  # local wall-clock time, minutes precision
    timezone: str  # IANA name, e.g. "Europe/Berlin"
    days: tuple[str, ...]  # subset of WEEKDAYS in week order, non-empty

    def cron_trigger(self) -> CronTrigger:
        """The APScheduler trigger (day_of_week by *names*, never numbers)."""
        return CronTrigger(
            hour=self.time.hour,
            minute=self.time.minute,
            second=0,
            day_of_week=",".join(self.days),
            timezone=zoneinfo.ZoneInfo(self.timezone),
        )

    def describe(self) -> str:
        """E.g. "09:00 Europe/Berlin, mon-fri"."""
        return f"{self.time:%H:%M} {self.timezone}, {describe_days(self.days)}"


def describe_days(days: tuple[str, ...]) -> str:
    """The shortest spelling that parse_days reads back: daily, mon-fri, mon,wed,fri."""
    if tuple(days) == WEEKDAYS:
        return "daily"
    indexes = [WEEKDAYS.index(d) for d in days]
    if len(indexes) > 2 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"{days[0]}-{days[-1]}"
    return ",".join(days)


def parse_time(text: str) -> time:
    """"HH:MM" 24h (also "9:00"); raises ScheduleError naming the valid form."""
    match = _TIME_RE.fullmatch(text.strip())
    if not match:
        raise ScheduleError(f"{TIME_FORM} (got {shown(text.strip())})")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ScheduleError(f"{TIME_FORM} (got {shown(text.strip())})")
    return time(hour, minute)


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


@lru_cache(maxsize=1)
def _by_lower() -> dict[str, str]:
    """Zone names by their lower-case spelling: IANA names never differ by case alone,
    so "europe/berlin" can only mean Europe/Berlin."""
    return {z.lower(): z for z in _zones()}


@lru_cache(maxsize=1)
def _offered() -> tuple[str, ...]:
    return tuple(z for z in _zones() if zones.offered(z))


TIMEZONE_FORM = "use an IANA zone name (Area/City), e.g. Europe/Berlin, or UTC"


def parse_timezone(text: str) -> str:
    """A valid IANA zone name ("UTC" allowed), as it is to be stored: deprecated
    aliases become their Area/City name; fixed-offset and ambiguous legacy names (EST,
    EST5EDT, GMT, Etc/GMT+5, ...) are refused with the name to use (bot.rules.zones).
    Raises ScheduleError with a hint."""
    wanted = text.strip().replace(" ", "_")
    if not wanted:
        raise ScheduleError(f"timezone must be an IANA zone name: {TIMEZONE_FORM}")
    found = _by_lower().get(wanted.lower())
    if found is not None:
        refused = zones.refusal(found)
        if refused is not None:
            raise ScheduleError(refused)
        return zones.canonical(found)
    offered = {z.lower(): z for z in _offered()}
    close = search_timezones(wanted, limit=5) or [
        offered[m] for m in difflib.get_close_matches(wanted.lower(), list(offered), n=5)
    ]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ScheduleError(f"unknown timezone {shown(text.strip())}: {TIMEZONE_FORM}{hint}")


_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(token: str) -> str:
    word = token.strip().lower()
    if word in WEEKDAYS:
        return word
    if word in _FULL_NAMES:
        return WEEKDAYS[_FULL_NAMES.index(word)]
    raise ScheduleError(f"unknown day {shown(token.strip())}: {DAYS_FORMS}")


def parse_days(text: str) -> tuple[str, ...]:
    """"mon-fri", "mon,wed,fri", "sat-sun", "daily"/"every day", "weekdays", "weekends";
    ranges may wrap ("fri-mon"). Raises ScheduleError listing the valid forms."""
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise ScheduleError(DAYS_FORMS)
    if cleaned in _NAMED_DAYS:
        return _NAMED_DAYS[cleaned]
    chosen: set[str] = set()
    for part in cleaned.replace(" ", ",").split(","):
        if not part:
            continue
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = WEEKDAYS.index(_day(first)), WEEKDAYS.index(_day(last))
            span = (end - start) % 7
            chosen.update(WEEKDAYS[(start + i) % 7] for i in range(span + 1))
        else:
            chosen.add(_day(part))
    if not chosen:
        raise ScheduleError(DAYS_FORMS)
    return tuple(d for d in WEEKDAYS if d in chosen)


def parse_schedule(
    time_text: str | None, timezone_text: str | None, days_text: str | None,
    *, current: Schedule | None = None,
) -> Schedule:
    """Options left out keep `current`'s value, or the defaults (09:00, UTC, mon-fri).
    Every bad option is reported: the ScheduleError's `problems` holds one line each."""
    base = current or Schedule(DEFAULT_TIME, DEFAULT_TIMEZONE, DEFAULT_DAYS)
    problems: list[str] = []
    chosen_time, zone, days = base.time, base.timezone, base.days
    try:
        chosen_time = parse_time(time_text) if time_text is not None else base.time
    except ScheduleError as exc:
        problems.append(str(exc))
    try:
        zone = parse_timezone(timezone_text) if timezone_text is not None else base.timezone
    except ScheduleError as exc:
        problems.append(str(exc))
    try:
        days = parse_days(days_text) if days_text is not None else base.days
    except ScheduleError as exc:
        problems.append(str(exc))
    if problems:
        raise ScheduleError(*problems)
    return Schedule(time=chosen_time, timezone=zone, days=days)


def _is_repeat(fire: datetime) -> bool:
    """True for the second occurrence of a wall time on a fall-back day."""
    return fire.fold == 1 and fire.replace(fold=0).utcoffset() != fire.utcoffset()


def next_slot(schedule: Schedule, after: datetime) -> datetime:
    """The first slot strictly after `after` (aware), as aware UTC."""
    if after.tzinfo is None:
        raise ValueError("next_slot needs an aware datetime")
    trigger = schedule.cron_trigger()
    now = after + timedelta(microseconds=1)
    while True:
        fire: datetime | None = trigger.get_next_fire_time(None, now)
        if fire is None:  # pragma: no cover - a cron with days never runs out
            raise RuntimeError(f"schedule {schedule.describe()} has no next slot")
        if not _is_repeat(fire):
            return fire.astimezone(UTC)
        now = fire.astimezone(UTC) + timedelta(seconds=1)


def latest_slot(schedule: Schedule, at: datetime) -> datetime | None:
    """The last slot at or before `at` (looking back at most 8 days), aware UTC."""
    if at.tzinfo is None:
        raise ValueError("latest_slot needs an aware datetime")
    found: datetime | None = None
    slot = next_slot(schedule, at - _LOOKBACK)
    while slot <= at:
        found = slot
        slot = next_slot(schedule, slot)
    return found


def slot_day(schedule: Schedule, slot: datetime) -> date:
    """The local calendar day of a slot in the schedule's zone (the claim key)."""
    return slot.astimezone(zoneinfo.ZoneInfo(schedule.timezone)).date()


def search_timezones(query: str, limit: int = 25) -> list[str]:
    """IANA zone names matching `query` (case-insensitive substring), best first;
    for autocomplete. Refused legacy names and deprecated aliases are not offered."""
    needle = query.strip().lower().replace(" ", "_")
    if not needle:
        return list(_offered()[:limit])

    def score(zone: str) -> tuple[int, int, str]:
        lower = zone.lower()
        city = lower.rsplit("/", 1)[-1]
        if lower == needle or city == needle:
            tier = 0
        elif city.startswith(needle):
            tier = 1
        elif lower.startswith(needle):
            tier = 2
        else:
            tier = 3
        return (tier, len(zone), zone)

    hits = [z for z in _offered() if needle in z.lower()]
    return sorted(hits, key=score)[:limit]
