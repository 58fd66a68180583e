"""Bring a database to the latest schema with the Alembic migrations in this package.

Replicas starting at once must not run the same migration twice (the second one crashes
on a table that now exists), so an upgrade runs under a lock that lives with the
database: a PostgreSQL advisory lock held by the migrating transaction, or an exclusive
file lock beside the SQLite file. The second replica waits, then finds nothing to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url

from storage.engine import advisory_xact_lock, make_engine, sqlite_in_memory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """A Config without an ini file, so the package works wherever it is installed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextlib.contextmanager
def sqlite_file_lock(database_url: str, purpose: str) -> Iterator[None]:
    """An exclusive flock on `<db>.<purpose>.lock`; nothing for in-memory databases."""
    url = make_url(database_url)
    if sqlite_in_memory(url):
        yield
        return
    with Path(f"{url.database}.{purpose}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocking: run in a thread by the caller
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply every pending migration. `qotd db upgrade` and `qotd run` call this."""
    engine = make_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    file_lock = contextlib.nullcontext() if postgres else sqlite_file_lock(database_url,
                                                                            "migrate")
    await asyncio.to_thread(file_lock.__enter__)
    try:
        async with engine.begin() as connection:
            if postgres:
                await advisory_xact_lock(connection, database_url, "migrate")
            await connection.run_sync(
                lambda sync: command.upgrade(alembic_config(sync), revision)
            )
    finally:
        file_lock.__exit__(None, None, None)
        await engine.dispose()
