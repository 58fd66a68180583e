"""Streak freezes: a missed scheduled post can be covered instead of breaking a streak.

The streak itself is today's rule (bot/rules/streaks.py): it counts a member's scheduled
posts in a row, an answer counts when it was recorded before the channel's next scheduled
post, the latest post is still open (not having answered it yet breaks nothing), extra
posts are outside the sequence. This module adds, on top of that rule:

* Earning: one freeze for every 7 scheduled posts answered in a row. The run is counted
  since the member's last miss (frozen or not), so it is "answered in a row" literally:
  the post a freeze covered was not answered, and the next freeze takes 7 more answers.
  A post an admin repaired (`/qotd streak-repair`, for an outage or a holiday) counts as
  answered for the streak, so it also counts toward the 7: the repair's purpose is that
  the member is treated as if they had answered, and an admin who can repair any post
  gains nothing by minting freezes this way.
* Holding: at most 2. A freeze earned while 2 are held is lost (the run toward the next
  one starts again), so a long run does not bank an unbounded reserve.
* Consuming: a missed scheduled post (closed: the next scheduled post is out, and no
  answer came before it, and no repair) uses one held freeze automatically. The streak
  keeps its length and does not grow: a frozen post is a post not answered, and counting
  it would make "current 23" mean something else than 23 answers. With no freeze held a
  miss breaks the streak as today.
* Never negative: the freezes held and the streak are counts that only a miss lowers,
  and a miss with none held takes the streak to 0 and leaves the freezes at 0.

Whole sequence (`compute`) and one post at a time (`step`) give the same result:
`compute` is the fold of `step`, so a stored per-member `FreezeState` can be advanced as
each post closes. The open latest post needs care there: an *unanswered* open post is not
final (an answer may still come before the next post), so `step` leaves the state as it
is for it, and a stored state must be advanced with that post again once it closes. An
answered (or repaired) open post is final: its answer is in time whatever comes next.

Pure: standard library only, no clock; the service supplies each post's outcome and its
local day (the scheduled day, `schedule.slot_day`, or for a channel without a schedule
its local day, `daily_post.local_day`).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.rules.streaks import PostMoment

EARN_EVERY = 7
HOLD_AT_MOST = 2

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# freezes used named one by one in `describe` up to this many; more are counted
_NAMED_USES = 3


class Outcome(enum.Enum):
    """What a scheduled post is for one member."""

    ANSWERED = "answered"  # an attempt recorded before the channel's next scheduled post
    REPAIRED = "repaired"  # an admin's repair: answered for the streak, no points
    MISSED = "missed"  # neither (for the open latest post: not answered yet)


@dataclass(frozen=True)
class ScheduledPost:
    """One scheduled post of the channel's sequence, as one member's outcome."""

    post_id: int
    day: date  # the local day the post belongs to, for "freeze used on Mon 12 Jan"
    outcome: Outcome
    open: bool = False  # the latest scheduled post: the next one is not out yet

    @property
    def counted(self) -> bool:
        """Answered for the streak (answered in time, or repaired)."""
        return self.outcome is not Outcome.MISSED

    @property
    def final(self) -> bool:
        """Nothing can change this post's outcome any more: it is closed, or it is open
        and already answered or repaired. A stored state advanced with a post that is not
        final has not taken it in (`step` leaves the state unchanged for it)."""
        return not self.open or self.counted


@dataclass(frozen=True)
class FreezeRule:
    """The numbers of the rule; the defaults are the issue's (7 in a row, hold 2).
    `hold_at_most=0` switches freezes off: the streak is then today's rule exactly."""

    earn_every: int = EARN_EVERY
    hold_at_most: int = HOLD_AT_MOST

    def __post_init__(self) -> None:
        if self.earn_every < 1:
            raise ValueError(f"earn_every must be at least 1, got {self.earn_every}")
        if self.hold_at_most < 0:
            raise ValueError(f"hold_at_most must not be negative, got {self.hold_at_most}")


DEFAULT_RULE = FreezeRule()


@dataclass(frozen=True)
class FreezeUse:
    """A freeze consumed by a missed post: which post, and its local day."""

    post_id: int
    day: date


@dataclass(frozen=True)
class FreezeState:
    """A member's streak with freezes after some posts; also the result shown by
    `/streak`. Storable as it is: four counts and the freezes used in the current streak."""

    current: int = 0  # posts answered (or repaired) in the current streak
    best: int = 0  # the longest current streak ever reached
    held: int = 0  # freezes in hand, 0..hold_at_most
    toward_next: int = 0  # answered in a row since the last miss, 0..earn_every-1
    used: tuple[FreezeUse, ...] = ()  # freezes that kept the current streak alive, in order


def step(state: FreezeState, post: ScheduledPost, rule: FreezeRule = DEFAULT_RULE) -> FreezeState:
    """`state` advanced by the member's next scheduled post.

    An open post not yet answered changes nothing (it is not final: see the module
    docstring). A counted post lengthens the streak and the run toward a freeze; the
    run's `earn_every`-th post earns one unless `hold_at_most` are held. A closed miss
    uses a freeze (the streak keeps its length) or, with none held, breaks the streak."""
    if post.counted:
        current = state.current + 1
        toward = state.toward_next + 1
        held = state.held
        if toward >= rule.earn_every:
            toward = 0
            held = min(held + 1, rule.hold_at_most)
        return replace(
            state, current=current, best=max(state.best, current), held=held, toward_next=toward
        )
    if post.open:
        return state
    if state.held > 0:
        return replace(
            state,
            held=state.held - 1,
            toward_next=0,
            used=(*state.used, FreezeUse(post.post_id, post.day)),
        )
    return replace(state, current=0, held=0, toward_next=0, used=())


def compute(
    posts: Iterable[ScheduledPost],
    rule: FreezeRule = DEFAULT_RULE,
    start: FreezeState | None = None,
) -> FreezeState:
    """The streak with freezes over `posts` (the channel's scheduled posts in posting
    order, as one member's outcomes), folded from `start` (a fresh member by default).
    Only the last post may be open: an open post in the middle is a caller's mistake
    (a later post was sent, so it closed) and raises ValueError."""
    state = start if start is not None else FreezeState()
    pending_open = False
    for post in posts:
        if pending_open:
            raise ValueError("only the latest scheduled post can be open")
        pending_open = post.open
        state = step(state, post, rule)
    return state


def outcomes(
    posts: Sequence[PostMoment],
    attempts: Mapping[int, datetime],
    repaired: Collection[int],
    timezone: str,
    days: Mapping[int, date] | None = None,
) -> list[ScheduledPost]:
    """The facts bot/rules/streaks.py reads (the channel's sent posts in posting order,
    post_id -> a member's first attempt) as this module's outcomes, by the same rule:
    extra posts are dropped, an attempt counts when it is earlier than the next
    scheduled post, the latest scheduled post is open. `repaired`: the post ids an admin
    repaired for this member. `days`: post_id -> its local day where the post has one of
    its own (a scheduled post's `slot_day`); otherwise the day it was sent in `timezone`
    (an IANA name)."""
    scheduled = [post for post in posts if post.scheduled]
    zone = ZoneInfo(timezone)
    last = len(scheduled) - 1
    result: list[ScheduledPost] = []
    for index, post in enumerate(scheduled):
        deadline = scheduled[index + 1].posted_at if index < last else None
        answered_at = attempts.get(post.post_id)
        if answered_at is not None and (deadline is None or answered_at < deadline):
            outcome = Outcome.ANSWERED
        elif post.post_id in repaired:
            outcome = Outcome.REPAIRED
        else:
            outcome = Outcome.MISSED
        day = (days or {}).get(post.post_id) or post.posted_at.astimezone(zone).date()
        result.append(ScheduledPost(post.post_id, day, outcome, open=index == last))
    return result


def short_day(day: date) -> str:
    """ "Mon 12 Jan": English names whatever the process locale (strftime's %a is not)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def describe(state: FreezeState) -> str:
    """The `/streak` line: "current 23 (1 freeze used on Mon 12 Jan), 1 freeze left".
    Up to three freezes are named by day; more are counted, with the latest named."""
    used = state.used
    if not used:
        note = ""
    elif len(used) <= _NAMED_USES:
        days = [short_day(use.day) for use in used]
        listed = days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]
        note = f" ({_plural(len(used), 'freeze')} used on {listed})"
    else:
        note = f" ({_plural(len(used), 'freeze')} used, the latest on {short_day(used[-1].day)})"
    left = "no freezes left" if state.held == 0 else f"{_plural(state.held, 'freeze')} left"
    return f"current {state.current}{note}, {left}"
