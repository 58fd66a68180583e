"""Wake other replicas at once on PostgreSQL: NOTIFY when a channel's schedule changes,
LISTEN in every process. Best effort by design: the timer's poll is the guarantee, this
only makes "another replica scheduled a post in two minutes" visible in milliseconds
instead of at the next poll. SQLite has a single process, so nothing to do there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import split_schema

log = logging.getLogger(__name__)


def channel_name(database_url: str) -> str:
    """One channel per schema, so instances sharing a server do not wake each other."""
    _, schema = split_schema(database_url)
    return f"qotd_wake_{schema}" if schema else "qotd_wake"


async def announce(session: AsyncSession, database_url: str, when: datetime) -> None:
    """Queue a wake-up for `when`; PostgreSQL delivers it when the transaction commits
    (and drops it on rollback, so a refused command wakes nobody)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(text("SELECT pg_notify(:channel, :when)"),
                          {"channel": channel_name(database_url), "when": when.isoformat()})


class WakeListener:
    """A dedicated asyncpg connection LISTENing; reconnects with a pause when the server
    drops it (a restart, pg_terminate_backend)."""

    def __init__(self, database_url: str, on_wake: Callable[[datetime], None],
                 retry_seconds: float = 5.0) -> None:
        url, _ = split_schema(database_url)
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._channel = channel_name(database_url)
        self._on_wake = on_wake
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="qotd-wake-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            when = datetime.fromisoformat(payload)
        except ValueError:
            log.warning("ignored a malformed wake-up notification")
            return
        self._on_wake(when)

    async def _run(self) -> None:
        while True:
            lost = asyncio.Event()
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(self._channel, self._received)
                self.connected.set()
                await lost.wait()
                log.info("the wake-up listener lost its connection; reconnecting")
            except (OSError, asyncpg.PostgresError) as exc:
                log.info("the wake-up listener cannot connect (%s); the poll covers",
                         type(exc).__name__)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(self._retry)
