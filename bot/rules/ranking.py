"""Leaderboard maths: period bounds in the channel's zone, and ordering with tie-breaks
(points, then current streak, then the earlier first answer)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Period = Literal["week", "month", "all"]
PERIODS: tuple[str, ...] = ("week", "month", "all")

# How long after its start a period's board totals are kept: longer than the period can
# last (a week is at most 7 days and an hour, a month 31 days and an hour, with a
# daylight-saving change in it), so that its board is read from them while it is current.
PERIOD_KEPT: dict[str, timedelta] = {"week": timedelta(days=8), "month": timedelta(days=32)}


@dataclass(frozen=True)
class Standing:
    user_id: str
    display_name: str
    points: float
    current_streak: int
    first_answer_at: datetime


@dataclass(frozen=True)
class Ranked:
    rank: int  # 1-based position after tie-breaks
    standing: Standing


def period_start(period: Period, now: datetime, timezone: str) -> datetime | None:
    """Start (aware UTC) of the current week (Monday 00:00 local) or month (1st 00:00
    local) in `timezone`; None for "all".

    A local midnight that does not exist (a zone that springs forward at 00:00) resolves
    to the transition instant, which is when that local day really began.
    """
    if now.tzinfo is None:
        raise ValueError("period_start needs an aware datetime")
    if period == "all":
        return None
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    if period == "week":
        first = today - timedelta(days=today.weekday())
    elif period == "month":
        first = today.replace(day=1)
    else:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    return datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)


def _order(standing: Standing) -> tuple[float, int, datetime, str]:
    return (-standing.points, -standing.current_streak, standing.first_answer_at, standing.user_id)


def rank(standings: Sequence[Standing]) -> list[Ranked]:
    """Order by points, then current streak, then the earlier first answer. Entries equal
    on all three share a rank (1, 1, 3); the user id only fixes their printed order."""
    ordered = sorted(standings, key=_order)
    ranked: list[Ranked] = []
    for position, standing in enumerate(ordered, start=1):
        previous = ranked[-1] if ranked else None
        if previous is not None and _order(previous.standing)[:3] == _order(standing)[:3]:
            ranked.append(Ranked(rank=previous.rank, standing=standing))
        else:
            ranked.append(Ranked(rank=position, standing=standing))
    return ranked


def place_in_group(mine: Standing, others: Iterable[tuple[float, int, datetime]]) -> int:
    """`mine`'s rank among `others` ((points, current streak, first answer) each), as
    `rank` gives it: 1 + the entries strictly ahead on the three tie-breaks. Placing one
    member needs no sort of the rest."""
    key = _order(mine)[:3]
    return 1 + sum(1 for points, streak, first in others if (-points, -streak, first) < key)


def board(ranked: Sequence[Ranked], caller_id: str, top: int = 10) -> tuple[list[Ranked], Ranked | None]:
    """The top `top`, plus the caller's own entry when it is not among them (else None)."""
    head = list(ranked[:top])
    if any(r.standing.user_id == caller_id for r in head):
        return head, None
    mine = next((r for r in ranked[top:] if r.standing.user_id == caller_id), None)
    return head, mine
