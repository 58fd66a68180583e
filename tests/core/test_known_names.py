"""An unchanged display name is not stored again: the command costs no write. A rename is
stored at once, and a remembered name expires so another replica's write cannot hide a
later change for long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from bot.app import Core
from bot.boundary import Actor
from bot.service.known_names import TTL, KnownNames
from storage.models import UserRow
from tests.conftest import cmd

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = ("discord", "g1", "u1")


def test_a_stored_name_is_known_until_it_changes_or_expires() -> None:
    names = KnownNames()
    assert not names.is_stored(KEY, "alice", T0)
    names.stored(KEY, "alice", T0)
    assert names.is_stored(KEY, "alice", T0 + timedelta(minutes=1))
    assert names.is_stored(KEY, "", T0 + timedelta(minutes=1))  # "did not say": exists
    assert not names.is_stored(KEY, "bob", T0 + timedelta(minutes=1))
    assert not names.is_stored(KEY, "alice", T0 + TTL)


def test_an_empty_name_keeps_the_one_remembered_and_the_map_is_bounded() -> None:
    names = KnownNames(limit=2)
    names.stored(KEY, "alice", T0)
    names.stored(KEY, "", T0)
    assert names.is_stored(KEY, "alice", T0)
    names.stored(("discord", "g1", "u2"), "b", T0)
    names.stored(("discord", "g1", "u3"), "c", T0)
    assert not names.is_stored(KEY, "alice", T0)  # least recently used went first


async def test_repeated_commands_by_the_same_person_write_nothing(core: Core) -> None:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    def user_writes() -> list[str]:
        return [s for s in statements if "INSERT INTO users" in s]

    alice = Actor("u-alice", "Alice")
    await core.handle_command(cmd("streak", actor=alice))
    event.listen(core.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await core.handle_command(cmd("streak", actor=alice))
        await core.handle_command(cmd("streak", actor=Actor("u-alice", "")))
        assert user_writes() == []
        await core.handle_command(cmd("streak", actor=Actor("u-alice", "Alice II")))
        assert len(user_writes()) == 1
    finally:
        event.remove(core.db.engine.sync_engine, "before_cursor_execute", seen)
    async with core.db.uow() as uow:
        names = list(await uow.session.scalars(
            select(UserRow.display_name).where(UserRow.user_id == "u-alice")))
    assert names == ["Alice II"]
