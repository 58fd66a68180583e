"""When to try again after a failure: exponential backoff with full jitter, capped, and
never past the deadline (a post's grace window), so retries of many channels that
failed together (a database outage) spread out instead of arriving in one burst."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE = timedelta(seconds=5)
CAP = timedelta(minutes=10)


def retry_delay(attempt: int, rng: random.Random, *, base: timedelta = BASE,
                cap: timedelta = CAP) -> timedelta:
    """Delay before attempt `attempt + 1` (attempt counts from 1): uniformly between half
    of and the whole exponential step, so it grows for sure and still spreads."""
    step: timedelta = min(cap, base * (2 ** min(max(attempt - 1, 0), 20)))
    return step * rng.uniform(0.5, 1.0)


def retry_at(now: datetime, attempt: int, rng: random.Random, deadline: datetime | None
             ) -> datetime:
    """The next attempt's time, pulled in before `deadline` when there is room."""
    when = now + retry_delay(attempt, rng)
    if deadline is not None and when >= deadline:
        room = deadline - now
        when = now + max(room * 0.9, timedelta(0)) if room > timedelta(seconds=1) else deadline
    return when
