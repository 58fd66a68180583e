"""Leaderboard maths: period bounds in the channel's zone, and ordering with tie-breaks
(points, then current streak, then the earlier first answer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Period = Literal["week", "month", "all"]
PERIODS: tuple[str, ...] = ("week", "month", "all")


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
    local) in `timezone`; None for "all"."""
    raise NotImplementedError


def rank(standings: Sequence[Standing]) -> list[Ranked]:
    raise NotImplementedError


def board(ranked: Sequence[Ranked], caller_id: str, top: int = 10) -> tuple[list[Ranked], Ranked | None]:
    """The top `top`, plus the caller's own entry when it is not among them (else None)."""
    raise NotImplementedError
