"""Engine construction: the per-connection pragmas and the optional PostgreSQL schema."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000


def split_schema(database_url: str) -> tuple[URL, str | None]:
    """Take our own `?schema=name` off a PostgreSQL URL (asyncpg would refuse it).

    A schema per instance lets tests (and small deployments) share one database.
    """
    url = make_url(database_url)
    schema = url.query.get("schema")
    if isinstance(schema, tuple):
        schema = schema[-1]
    if schema is not None:
        url = url.difference_update_query(["schema"])
        if not schema.replace("_", "").isalnum():
            raise ValueError("the schema in the database URL must be letters, digits and _")
    return url, schema


def sqlite_in_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def advisory_key(database_url: str, purpose: str) -> int:
    """A stable signed 64-bit key per schema and purpose (pg_advisory_xact_lock's type)."""
    _, schema = split_schema(database_url)
    digest = hashlib.sha256(f"qotd:{purpose}:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def advisory_xact_lock(executor: AsyncConnection | AsyncSession, database_url: str,
                             purpose: str) -> None:
    """PostgreSQL: wait for, then hold until commit, the lock every process doing the
    same `purpose` on this schema takes (migrations, the bank sync)."""
    await executor.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": advisory_key(database_url, purpose)})


def make_engine(database_url: str, *, pool_size: int | None = None,
                max_overflow: int | None = None) -> AsyncEngine:
    url, schema = split_schema(database_url)
    connect_args: dict[str, Any] = {}
    pool: dict[str, Any] = {}
    if sqlite_in_memory(url):  # a single shared connection (StaticPool): nothing to size
        pool_size = max_overflow = None
    if pool_size is not None:
        pool["pool_size"] = pool_size
    if max_overflow is not None:
        pool["max_overflow"] = max_overflow
    if url.get_backend_name() == "sqlite":
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
    elif schema is not None:
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=True, **pool)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine, "handle_error", _asyncpg_disconnects)
    return engine


# What asyncpg says about a connection whose backend the server ended while it sat idle
# in the pool (pg_terminate_backend, a failover): SQLAlchemy does not count these as a
# disconnect, so the connection would go back to the pool and fail the next use too.
_DEAD_CONNECTION = ("cannot switch to state", "connection was closed in the middle",
                    "connection is closed", "terminating connection due to administrator")


def _asyncpg_disconnects(context: Any) -> None:
    text = str(context.original_exception)
    if any(marker in text for marker in _DEAD_CONNECTION):
        context.is_disconnect = True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; busy_timeout waits for the write lock
    instead of failing; foreign keys are off in SQLite unless asked for, per connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
