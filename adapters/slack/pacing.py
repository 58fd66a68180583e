"""About one message per second per channel, as Slack asks of `chat.postMessage`.

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
