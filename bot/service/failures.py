"""What the engine keeps in memory between passes: the backoff of steps whose failure
could not be written to the database (the database may be what is down), and when
housekeeping last ran. Everything else it knows comes from the database each pass."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.rules.backoff import retry_at

FORGET_AFTER = timedelta(days=2)  # a backoff this stale belongs to work long gone

StepKey = tuple[str, int]  # ("channel" | "send" | "reveal", row id)


@dataclass
class Failures:
    entries: dict[StepKey, tuple[int, datetime]] = field(default_factory=dict)
    """step -> (failures in a row, not before)"""
    housekept_at: datetime | None = None

    def blocked(self, key: StepKey, now: datetime) -> bool:
        entry = self.entries.get(key)
        return entry is not None and entry[1] > now

    def failed(self, key: StepKey, now: datetime, rng: random.Random) -> tuple[int, datetime]:
        """Record one more failure; returns (failures in a row, next attempt)."""
        count = self.entries.get(key, (0, now))[0] + 1
        again = retry_at(now, count, rng, None)
        self.entries[key] = (count, again)
        return count, again

    def succeeded(self, key: StepKey) -> None:
        self.entries.pop(key, None)

    def earliest_after(self, after: datetime) -> datetime | None:
        moments = [when for _, when in self.entries.values() if when > after]
        return min(moments) if moments else None

    def prune(self, now: datetime) -> None:
        for key in [k for k, (_, when) in self.entries.items() if when < now - FORGET_AFTER]:
            del self.entries[key]
