"""A channel's posting schedule: parse/validate user input, and the slot maths.

A *slot* is one scheduled posting instant (aware, UTC). Every local calendar day listed in
`days` has exactly one slot: the wall time on that day in the channel's IANA zone, so 09:00
stays 09:00 local across DST changes. Slots are computed directly over local dates with
zoneinfo (the wall time read with fold=0), not with APScheduler's CronTrigger: the trigger
skips a day for a time before the change hour on the spring-forward day (00:30 in
Europe/Berlin after 2027-03-28 goes to the 30th), and a day-by-day computation cannot skip
or double a day by construction. APScheduler stays the timer (bot/scheduler.py).

Daylight-saving edge cases (checked in tests/rules/test_schedule.py and
tests/rules/test_schedule_dst.py):

* a local time that does not exist on the spring-forward day (02:30 in Europe/Berlin on
  2027-03-28) fires once, at the instant that wall time would have been in the old offset
  (01:30 UTC, which reads 03:30 on local clocks); the day is not skipped;
* a local time that happens twice on the fall-back day (02:30 on 2027-10-31) fires once,
  at its first occurrence, so there is exactly one slot per local day (the database claim
  on the local day is the second line of defence);
* where the skipped hour ends at midnight (America/Nuuk: 23:00 -> 00:00 on the Saturday
  before the last Sunday of March), the substitute instant of 23:30 reads 00:30 on the next
  day's clocks; `slot_day` still names the scheduled day, so that day and the next keep one
  claim each.
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
        """The APScheduler trigger (day_of_week by *names*, never numbers). Not used for
        the slot maths (see the module docstring: it skips a day on spring-forward)."""
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


def _wall_instant(schedule: Schedule, day: date) -> datetime:
    """The schedule's wall time on a local `day`, aware UTC. fold=0 gives both documented
    DST rules at once: a time the spring-forward skips is read in the old offset, and a
    time the fall-back repeats is its first occurrence."""
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    return datetime.combine(day, schedule.time, tzinfo=zone).astimezone(UTC)


def slot_on_day(schedule: Schedule, day: date) -> datetime | None:
    """The slot of a local calendar `day` (aware UTC), or None when `day` is not listed."""
    if WEEKDAYS[day.weekday()] not in schedule.days:
        return None
    return _wall_instant(schedule, day)


# Days to walk from the local day before `after`: a one-day week needs up to 9 (the day
# before, today, a week on); a few spare for a zone that drops a whole day (Pacific/Apia,
# 2011-12-30), whose substitute instant is the next day's slot.
_WALK = 16


def next_slot(schedule: Schedule, after: datetime) -> datetime:
    """The first slot strictly after `after` (aware), as aware UTC. Slots are walked day by
    day from the local day before `after` (a substitute instant can read the next day)."""
    if after.tzinfo is None:
        raise ValueError("next_slot needs an aware datetime")
    day = after.astimezone(zoneinfo.ZoneInfo(schedule.timezone)).date() - timedelta(days=1)
    for _ in range(_WALK):
        slot = slot_on_day(schedule, day)
        if slot is not None and slot > after:
            return slot
        day += timedelta(days=1)
    raise RuntimeError(f"schedule {schedule.describe()} has no next slot")  # pragma: no cover


def latest_slot(schedule: Schedule, at: datetime) -> datetime | None:
    """The last slot at or before `at` (looking back at most 8 days), aware UTC."""
    if at.tzinfo is None:
        raise ValueError("latest_slot needs an aware datetime")
    day = at.astimezone(zoneinfo.ZoneInfo(schedule.timezone)).date() + timedelta(days=1)
    for _ in range(_WALK):
        slot = slot_on_day(schedule, day)
        if slot is not None and slot <= at:
            return slot if slot > at - _LOOKBACK else None
        day -= timedelta(days=1)
    return None  # pragma: no cover - a schedule with days has a slot every week


def slot_day(schedule: Schedule, slot: datetime) -> date:
    """The local calendar day a slot belongs to (the claim key): the day it reads in the
    schedule's zone, except for a substitute instant that reads the next day (a skipped
    hour ending at midnight), which belongs to the day before."""
    local = slot.astimezone(zoneinfo.ZoneInfo(schedule.timezone)).date()
    before = local - timedelta(days=1)
    if _wall_instant(schedule, local) != slot and slot_on_day(schedule, before) == slot:
        return before
    return local


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
