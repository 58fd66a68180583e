"""The question of the day of a channel without a schedule.

A channel with a schedule has a sequence of scheduled posts (bot/rules/schedule.py) and
streaks count them; an admin's extra `/qotd post` is outside it. A channel without a
schedule had no sequence at all, so every streak there read 0. Here, each local day's
first `/qotd post` (the day in the channel's time zone) is that day's question of the day:
it is in the sequence and counts for streaks like a scheduled post; later posts that day
are extras, as on a scheduled channel. An answer to a day's question counts when it comes
before the next day-question (the streaks rule), so a day with no post breaks nothing.

The local day of an instant is the date it reads on the channel's clocks, so a post at
23:59 and one at 00:01 are on two days, and on a 23- or 25-hour daylight-saving day the
day still has one first post. A day begins at its first instant (`day_start`): a midnight
a spring-forward skips begins the day at the change (as ranking.period_start), and a
midnight a fall-back repeats begins it at the first 00:00.

Pure: standard library only; the sent times come from the caller (the clock is injected
above this module).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.rules.streaks import PostMoment


@dataclass(frozen=True)
class SentPost:
    post_id: int
    sent_at: datetime  # aware


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} needs an aware datetime")


def local_day(moment: datetime, timezone: str) -> date:
    """The date `moment` (aware) reads in `timezone` (IANA name): the day's claim key of
    a channel without a schedule."""
    _aware(moment, "local_day")
    return moment.astimezone(ZoneInfo(timezone)).date()


def day_start(day: date, timezone: str) -> datetime:
    """The first instant (aware UTC) of local `day` in `timezone`. Midnight read with
    fold=0 is both rules at once: a skipped midnight is read in the old offset, which is
    the change instant, and a repeated midnight is its first occurrence."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of local `day`, aware UTC: 23, 24 or 25 hours (or another length in a
    zone that changes by half an hour; empty for a day a zone skipped, Pacific/Apia's
    2011-12-30). A post was sent on `day` if start <= sent < end."""
    return day_start(day, timezone), day_start(day + timedelta(days=1), timezone)


def in_sequence(posts: Iterable[SentPost], timezone: str) -> list[PostMoment]:
    """The channel's posts in sending order (earlier sent_at first; the smaller post id
    first at the same instant, the one created first), each as a streaks.PostMoment
    with `scheduled` True for its local day's first post and False for the day's
    extras. The result feeds streaks.compute_streak and freezes.outcomes as it is."""
    given = list(posts)
    for post in given:
        _aware(post.sent_at, "in_sequence")
    zone = ZoneInfo(timezone)
    seen: set[date] = set()
    result: list[PostMoment] = []
    for post in sorted(given, key=lambda post: (post.sent_at, post.post_id)):
        day = post.sent_at.astimezone(zone).date()
        first = day not in seen
        seen.add(day)
        result.append(PostMoment(post.post_id, post.sent_at, scheduled=first))
    return result


def is_question_of_the_day(sent_at: datetime, earlier: Iterable[datetime], timezone: str) -> bool:
    """Whether a post sent at `sent_at` is its local day's question of the day, given the
    sent times of the channel's posts sent before it (`earlier`: any order, other days
    included): it is when none of them was sent on the same local day. The service need
    not load them all: the posts sent within `day_bounds(local_day(sent_at))` are enough,
    and a unique claim on (channel, `local_day`) keeps it to one post when two are sent at
    once (as the scheduled day's claim does)."""
    day = local_day(sent_at, timezone)
    return not any(local_day(moment, timezone) == day for moment in earlier)
