"""Keep one user's reactions in the order Slack sent them.

Bolt runs each event's listener as its own task, so a quick ✅-then-❌ (or add-then-
remove) from one person could reach the core in either order and leave the wrong vote
standing. Handlers take this per-key lock before their first await: tasks start in arrival
order and the lock queues them FIFO, so one user's events are applied in sequence while
different users still run concurrently. Locks are dropped when nobody holds or waits.

`idle()` lets shutdown wait for votes already being recorded instead of cutting them off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._holders: dict[Hashable, int] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        self._idle.clear()
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key]
                del self._locks[key]
            if not self._locks:
                self._idle.set()

    async def idle(self) -> None:
        """Return once no key is held or waited for."""
        await self._idle.wait()

    def __len__(self) -> int:
        return len(self._locks)
