"""Slack redelivers an event it thinks was not acknowledged in time (same `event_id`,
`X-Slack-Retry-Num` / `retry_attempt` set), and Bolt does not filter those: this does.

The memory is per process and bounded (size and age). That is enough because Slack's
retries come within minutes of the original; a restart in between could let one retry
through, and the core's reaction handling is idempotent for that case anyway.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class SeenEvents:
    def __init__(
        self,
        *,
        ttl_seconds: float = 3600.0,
        max_size: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_size
        self._monotonic = monotonic
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        """True the first time an id is offered (within the TTL), False for repeats."""
        now = self._monotonic()
        while self._seen:
            oldest_id, at = next(iter(self._seen.items()))
            if now - at < self._ttl and len(self._seen) < self._max:
                break
            del self._seen[oldest_id]
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True
