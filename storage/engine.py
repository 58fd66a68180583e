"""Engine construction: the per-connection pragmas and the optional PostgreSQL schema."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

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

# What an operator may write, and the driver each form runs on. Hosts hand out
# `postgres://` (Heroku, Render, Fly) or `postgresql://` without a driver; SQLAlchemy
# reads the first as nothing and the second as psycopg2, which is not installed.
_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
SUPPORTED_URLS = ("postgres://, postgresql:// or postgresql+asyncpg://USER:PASSWORD@HOST/DB "
                  "(PostgreSQL, via asyncpg), sqlite:///PATH or sqlite+aiosqlite:///PATH "
                  "(SQLite, via aiosqlite)")
# libpq's sslmode values, which asyncpg also takes (as its `ssl` argument)
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_SHOWABLE_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,39}")


def normalize_url(database_url: str) -> str:
    """The URL with the driver this project uses, or ValueError naming the supported
    forms. Only the scheme (and an `ssl=` query key, spelled `sslmode=` so that both
    SQLAlchemy's and asyncpg's own DSN parser read it) is rewritten: the rest stays
    byte for byte, and no message repeats the URL (it may hold a password)."""
    scheme, sep, rest = database_url.strip().partition("://")
    driver = _DRIVERS.get(scheme.lower()) if sep else None
    if driver is None:
        got = (f"got {scheme!r}" if sep and _SHOWABLE_SCHEME.fullmatch(scheme)
               else "got no scheme://")
        raise ValueError(f"unsupported database URL ({got}): use {SUPPORTED_URLS}")
    if driver.startswith("sqlite"):
        if rest and not rest.startswith("/"):
            raise ValueError("a SQLite URL has no host: use sqlite:///relative/path.db or "
                             "sqlite:////absolute/path.db")
        return f"{driver}://{rest}"
    creds, at, place = rest.rpartition("@")
    where, qmark, query = place.partition("?")
    if qmark:
        pairs = parse_qsl(query, keep_blank_values=True)
        renamed = [("sslmode" if key == "ssl" else key, value) for key, value in pairs]
        for key, value in renamed:
            if key == "sslmode" and value not in SSL_MODES:
                raise ValueError(f"sslmode={value[:20]!r} in the database URL is not one of "
                                 f"{', '.join(SSL_MODES)}")
        if renamed != pairs:
            query = urlencode(renamed)
    return f"{driver}://{creds}{at}{where}{qmark}{query}"


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
                max_overflow: int | None = None, pre_ping: bool | None = None) -> AsyncEngine:
    url, schema = split_schema(normalize_url(database_url))
    connect_args: dict[str, Any] = {}
    sslmode = url.query.get("sslmode")
    if sslmode is not None and url.get_backend_name() == "postgresql":
        # SQLAlchemy hands query keys to asyncpg.connect() as keyword arguments, and
        # asyncpg calls this one `ssl` (it takes the libpq mode names).
        url = url.difference_update_query(["sslmode"])
        connect_args["ssl"] = sslmode[-1] if isinstance(sslmode, tuple) else sslmode
    pool: dict[str, Any] = {}
    if sqlite_in_memory(url):  # a single shared connection (StaticPool): nothing to size
        pool_size = max_overflow = None
    if pool_size is not None:
        pool["pool_size"] = pool_size
    if max_overflow is not None:
        pool["max_overflow"] = max_overflow
    if url.get_backend_name() == "sqlite":
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
    else:
        # JIT compiles a statement whenever the planner's cost estimate is high: that pays
        # for long analytical queries, while here it added compile time to board
        # statements whose estimates ran high on skewed data (bench/million.py)
        connect_args["server_settings"] = {"jit": "off"}
        if schema is not None:
            connect_args["server_settings"]["search_path"] = schema
    # A pre-ping is a round trip before every unit of work. A pooled PostgreSQL
    # connection can die while idle (failover, pg_terminate_backend), so it pays there;
    # a SQLite connection is a file handle in this process, with no server to drop it.
    if pre_ping is None:
        pre_ping = url.get_backend_name() != "sqlite"
    engine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=pre_ping,
                                 **pool)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
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


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
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
