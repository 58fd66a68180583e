"""Pacing: about one message per second per channel, as Slack asks of `chat.postMessage`
(ChannelPacer), and a method's tier per workspace (WorkspacePacer, e.g. reactions.add).

Time and sleep are injected so that tests check the spacing without waiting for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class ChannelPacer:
    def __init__(
        self,
        interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    async def wait_turn(self, channel: str) -> None:
        """Return once `interval` has passed since the previous send to `channel`.

        The per-channel lock makes concurrent senders queue rather than all waking at once;
        other channels are never held up.
        """
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            last = self._last.get(channel)
            if last is not None:
                wait = last + self._interval - self._monotonic()
                if wait > 0:
                    await self._sleep(wait)
            self._last[channel] = self._monotonic()


class Gcra:
    """A generic cell rate (the leaky bucket as a meter): `per_minute` calls on average,
    up to `burst` of them back to back. `blocked_until` (a 429's Retry-After) holds every
    call until then. Pure bookkeeping: the caller sleeps."""

    def __init__(self, per_minute: float, burst: int = 1) -> None:
        self.interval = 60.0 / per_minute
        self.tolerance = self.interval * max(0, burst - 1)
        self.tat = 0.0  # theoretical arrival time of the next call
        self.blocked_until = 0.0

    def reserve(self, now: float, max_wait: float = float("inf")) -> float | None:
        """Reserve the next slot: the seconds to wait for it, or None (nothing reserved)
        when that would be longer than `max_wait`."""
        start = max(now, self.blocked_until, self.tat - self.tolerance)
        wait = start - now
        if wait > max_wait:
            return None
        self.tat = max(start, self.tat) + self.interval
        return wait


class WorkspacePacer:
    """Calls of one Web API method paced per workspace at its tier (Slack counts rate
    limits per method, per workspace, per app): reactions.add is Tier 3, about 50 a
    minute, "bursts welcome"."""

    def __init__(
        self,
        per_minute: float,
        *,
        burst: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_minute = per_minute
        self._burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._meters: dict[str, Gcra] = {}

    def meter(self, workspace: str) -> Gcra:
        found = self._meters.get(workspace)
        if found is None:
            found = self._meters[workspace] = Gcra(self._per_minute, self._burst)
        return found

    async def wait_turn(self, workspace: str) -> None:
        wait = self.meter(workspace).reserve(self._monotonic())
        if wait:
            await self._sleep(wait)
