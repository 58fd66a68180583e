"""Storing the display name that comes with every command (issue 16): after a restart
KnownNames is empty, and the first command of each member used to upsert and commit the
name it already had (on SQLite the write lock, taken while the vote writer wants it). The
stored name is now read first (UserRepo.names_of, one indexed SELECT) and written only
when it differs or the member is new: a read-only command of a known member opens no
write transaction and commits nothing. Observed on the real engine (statements and
commits recorded by SQLAlchemy's events), on SQLite and PostgreSQL; on SQLite also with
another connection holding the write lock, which such a command must not wait for."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select

from bot.app import Core
from bot.boundary import Actor, CommandInput, UserRef
from storage.models import UserRow
from tests.conftest import ALICE, BOB, CHANNEL, cmd

WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Seen:
    statements: list[str] = field(default_factory=list)
    commits: int = 0

    @property
    def writes(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(WRITES)]


@contextmanager
def recording(core: Core) -> Iterator[Seen]:
    seen = Seen()

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        seen.statements.append(text)

    def commit(conn: Any) -> None:
        seen.commits += 1

    engine = core.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


async def _names(core: Core) -> dict[str, str]:
    async with core.db.uow() as uow:
        rows = (await uow.session.execute(select(UserRow.user_id, UserRow.display_name))).all()
    return {user_id: name for user_id, name in rows}


def _restart(core: Core) -> None:
    """What a restart does to the names this process stored: forgets them all."""
    core.deps.names.forget()


async def test_a_known_member_after_a_restart_writes_nothing(core: Core) -> None:
    [reply] = await core.handle_command(cmd("streak", actor=ALICE))
    assert reply.message.tone != "error"
    assert (await _names(core))["u-alice"] == "Alice"  # a new member: stored
    _restart(core)
    for command in (cmd("streak", actor=ALICE), cmd("leaderboard", actor=ALICE),
                    cmd("qotd", "status", actor=ALICE)):
        with recording(core) as seen:
            [reply] = await core.handle_command(command)
        assert reply.message.tone != "error", reply.message.body
        assert seen.writes == [], seen.writes
        assert seen.commits == 0
    # the first of them read the name (one SELECT of users) and remembered it: the next
    # ones did not read it again
    with recording(core) as seen:
        await core.handle_command(cmd("streak", actor=ALICE))
    assert not any("display_name" in s and "FROM users" in s and "user_id IN" in s
                   for s in seen.statements), seen.statements


async def test_one_select_for_the_name_and_none_once_known(core: Core) -> None:
    await core.handle_command(cmd("streak", actor=ALICE))
    _restart(core)
    with recording(core) as seen:
        await core.handle_command(cmd("streak", actor=ALICE))
    reads = [s for s in seen.statements if "FROM users" in s and "IN (" in s]
    assert len(reads) == 1, seen.statements
    with recording(core) as again:
        await core.handle_command(cmd("streak", actor=ALICE))
    assert len(again.statements) == len(seen.statements) - 1


async def test_a_renamed_or_new_member_is_written(core: Core) -> None:
    await core.handle_command(cmd("streak", actor=ALICE))
    _restart(core)
    with recording(core) as seen:
        await core.handle_command(cmd("streak", actor=Actor("u-alice", "Alice Renamed")))
    assert len(seen.writes) == 1 and seen.commits == 1, seen.statements
    assert (await _names(core))["u-alice"] == "Alice Renamed"
    # the name now stored is remembered: the same name again writes nothing
    with recording(core) as seen:
        await core.handle_command(cmd("streak", actor=Actor("u-alice", "Alice Renamed")))
    assert seen.writes == [] and seen.commits == 0
    # a member named in the command ([user]) and never seen: stored; the known caller not
    _restart(core)
    with recording(core) as seen:
        await core.handle_command(CommandInput(
            name="streak", actor=Actor("u-alice", "Alice Renamed"), channel=CHANNEL,
            user=UserRef("u-bob", "Bob")))
    assert len(seen.writes) == 1 and seen.commits == 1, seen.statements
    assert (await _names(core))["u-bob"] == "Bob"


async def test_an_empty_name_keeps_the_stored_one(core: Core) -> None:
    """The platform did not say (empty name): the stored name stays, and nothing is
    written for a member already stored."""
    await core.handle_command(cmd("streak", actor=BOB))
    _restart(core)
    with recording(core) as seen:
        await core.handle_command(cmd("streak", actor=Actor("u-bob", "")))
    assert seen.writes == [] and seen.commits == 0
    assert (await _names(core))["u-bob"] == "Bob"


async def test_sqlite_a_read_does_not_wait_for_the_write_lock(core: Core) -> None:
    """Another connection holds SQLite's write lock (as the vote writer does between its
    statements and its commit): a known member's read-only command after a restart
    answers at once, since it never asks for the lock."""
    if core.db.dialect != "sqlite":
        return  # PostgreSQL has no database-wide write lock
    await core.handle_command(cmd("streak", actor=ALICE))
    _restart(core)
    path = core.db.engine.url.database
    assert path
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        [reply] = await core.handle_command(cmd("streak", actor=ALICE))
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert reply.message.tone != "error", reply.message.body
    assert waited < 1.0, waited  # the busy timeout would be seconds
