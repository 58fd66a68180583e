"""The display names this process last stored, so an unchanged name costs no database work.

Every command carries the actor's display name. Storing it is an upsert that writes
nothing when the name is unchanged, but it still needs its own unit of work: a pooled
connection (a pre-ping on PostgreSQL), the statement and a commit, four round trips per
command for nothing. Remembering what was stored lets the next command by the same
person skip all of it.

Entries expire (`TTL`): another replica may store a newer name, and a name this process
remembers may then be stale in the database; after the TTL the next command stores it
again, so a rename seen only here reaches the database within minutes at worst. The map is
bounded (least recently used first out) so a huge server cannot grow it without limit."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

TTL = timedelta(minutes=10)
LIMIT = 100_000

Key = tuple[str, str, str]  # platform, workspace, user id


class KnownNames:
    def __init__(self, ttl: timedelta = TTL, limit: int = LIMIT) -> None:
        self._ttl = ttl
        self._limit = limit
        self._stored: OrderedDict[Key, tuple[str, datetime]] = OrderedDict()

    def is_stored(self, key: Key, name: str, now: datetime) -> bool:
        """Whether storing `name` for `key` now would change nothing this process knows of.
        An empty name (the platform did not say) only needs the user to exist."""
        found = self._stored.get(key)
        if found is None:
            return False
        stored, at = found
        if now - at >= self._ttl or now < at:
            del self._stored[key]
            return False
        if name and name != stored:
            return False
        self._stored.move_to_end(key)
        return True

    def stored(self, key: Key, name: str, now: datetime) -> None:
        """`name` was just stored for `key` (an empty name keeps the one remembered)."""
        previous = self._stored.get(key)
        if not name and previous is not None:
            name = previous[0]
        self._stored[key] = (name, now)
        self._stored.move_to_end(key)
        while len(self._stored) > self._limit:
            self._stored.popitem(last=False)

    def forget(self) -> None:
        self._stored.clear()
