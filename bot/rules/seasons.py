"""Seasons: the leaderboard's longer period (`/leaderboard period:season`).

A season is a run of whole calendar months, the same length all year: 1, 2, 3 (quarters,
the default), 4, 6 or 12 months, dividing the year evenly and anchored on 1 January in
the workspace's time zone, so "2027 Q2" is the same three months on every board of a
workspace and a season never straddles two years. A season begins at local midnight of
its first day and ends (exclusive) where the next one begins, both aware UTC; a midnight
a daylight-saving change skips begins the season at the change instant (fold=0, as
ranking.period_start and daily_post.day_start).

Closing: a season closes at its end instant. `closed_between(after, until)` lists the
seasons that closed in (after, until], so a job that remembers the last moment it looked
posts each close once: consecutive windows share no season and miss none.

Pure: standard library only, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.rules.inputs import InputError, shown

SEASON_MONTHS: tuple[int, ...] = (1, 2, 3, 4, 6, 12)
DEFAULT_SEASON_MONTHS = 3
SEASON_FORM = "season length must be 1, 2, 3, 4, 6 or 12 months (or month, quarter, half, year)"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LENGTH_RE = re.compile(r"([0-9]{1,2}) ?(?:m|months?)?")
_NAMED = {
    "month": 1,
    "monthly": 1,
    "quarter": 3,
    "quarterly": 3,
    "half": 6,
    "year": 12,
    "yearly": 12,
    "annual": 12,
}


def _check(months: int) -> None:
    if months not in SEASON_MONTHS:
        raise ValueError(f"months per season must be one of {SEASON_MONTHS}, got {months!r}")


@dataclass(frozen=True)
class Season:
    year: int
    number: int  # 1-based within the year: 1..12 // months
    months: int  # months per season, one of SEASON_MONTHS
    timezone: str  # the workspace's IANA zone the season is anchored in

    def __post_init__(self) -> None:
        _check(self.months)
        if not 1 <= self.number <= 12 // self.months:
            raise ValueError(f"season number {self.number} out of 1..{12 // self.months}")

    @property
    def first_month(self) -> int:
        return (self.number - 1) * self.months + 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def start(self) -> datetime:
        """Local midnight of the first day, aware UTC."""
        return _local_midnight(self.first_day, self.timezone)

    @property
    def end(self) -> datetime:
        """Exclusive: the next season's start."""
        return self.next().start

    @property
    def key(self) -> str:
        """A stable name for a unique key ("2027-04/3": first month / months per season),
        so that the close of one season is recorded once. The zone is not in it: a
        workspace that changes its zone keeps the same seasons by name, and a close
        already posted is not posted again."""
        return f"{self.year}-{self.first_month:02d}/{self.months}"

    @property
    def label(self) -> str:
        """ "2027 Q1" for quarters, "2027 H1" for halves, "2027" for a year, "Mar 2027"
        for a month, "Jan–Feb 2027" otherwise."""
        if self.months == 3:
            return f"{self.year} Q{self.number}"
        if self.months == 6:
            return f"{self.year} H{self.number}"
        if self.months == 12:
            return str(self.year)
        first = _MONTHS[self.first_month - 1]
        if self.months == 1:
            return f"{first} {self.year}"
        last = _MONTHS[self.first_month + self.months - 2]
        return f"{first}–{last} {self.year}"

    def next(self) -> Season:
        if self.number < 12 // self.months:
            return Season(self.year, self.number + 1, self.months, self.timezone)
        return Season(self.year + 1, 1, self.months, self.timezone)

    def previous(self) -> Season:
        if self.number > 1:
            return Season(self.year, self.number - 1, self.months, self.timezone)
        return Season(self.year - 1, 12 // self.months, self.months, self.timezone)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _local_midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def season_of(moment: datetime, timezone: str, months: int = DEFAULT_SEASON_MONTHS) -> Season:
    """The season `moment` (aware) falls in: the one its local date (on the workspace's
    clocks) is in. The local date and the season's bounds agree at every change: the
    first instant that reads the 1st is the season's start (tests/rules/test_seasons.py
    checks `contains` in zones with midnight changes)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("season_of needs an aware datetime")
    _check(months)
    local = moment.astimezone(ZoneInfo(timezone))
    return Season(local.year, (local.month - 1) // months + 1, months, timezone)


def previous_season(moment: datetime, timezone: str, months: int = DEFAULT_SEASON_MONTHS) -> Season:
    """The season before the one `moment` falls in (the one whose top three a close
    post shows)."""
    return season_of(moment, timezone, months).previous()


def closed_between(
    after: datetime, until: datetime, timezone: str, months: int = DEFAULT_SEASON_MONTHS
) -> list[Season]:
    """The seasons whose end is in (after, until], oldest first: those that closed since
    the job last looked (at `after`) up to now (`until`). Empty when until <= after. After
    a long outage this can be several; the caller decides whether to post them all."""
    for moment, what in ((after, "after"), (until, "until")):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"closed_between needs an aware {what}")
    if until <= after:
        return []
    season = season_of(after, timezone, months)  # its end is > after
    closed: list[Season] = []
    while season.end <= until:
        closed.append(season)
        season = season.next()
    return closed


def parse_season_months(text: str) -> int:
    """An admin's season length: "3", "3 months", "quarter", "half", "year", ... Raises
    InputError naming the valid forms. ASCII digits only (see bot/rules/inputs.py)."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _NAMED:
        return _NAMED[cleaned]
    match = _LENGTH_RE.fullmatch(cleaned)
    if match and int(match.group(1)) in SEASON_MONTHS:
        return int(match.group(1))
    raise InputError(f"{SEASON_FORM} (got {shown(text.strip())})")
