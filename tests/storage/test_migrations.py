"""Upgrading: replicas migrating at once, and rows an earlier version left behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from adapters.console.outbound import ConsoleOutbound
from bot.clock import FakeClock
from storage.migrate import upgrade
from storage.uow import Database
from tests.conftest import CHANNEL, make_core


async def test_two_upgrades_at_once_on_an_empty_database(database_url: str) -> None:
    """What two replicas starting together do: one migrates, the other waits, both end
    at head (without the lock the second crashed on a table that now existed)."""
    await asyncio.gather(upgrade(database_url), upgrade(database_url), upgrade(database_url))
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await db.dispose()
    assert [v for (v,) in versions] == ["0007"]


async def test_rows_of_0001_are_planned_and_resent(database_url: str, bank_dir: Path) -> None:
    """A channel scheduled and a claim left pending by the previous version: after the
    upgrade the engine plans the channel from its last slot and resends the claim."""
    await upgrade(database_url, "0001")
    db = Database(database_url)
    monday_9 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO channels (id, platform, workspace_id, channel_id, scheduled, "
                "paused, post_time, timezone, days, active_since, cycle, draws, "
                "include_topics, exclude_topics, created_at) VALUES (1, 'console', 'ws1', "
                "'c1', true, false, '09:00', 'UTC', 'mon,tue,wed,thu,fri', :since, 1, 1, "
                "'[]', '[]', :since)"), {"since": datetime(2027, 2, 26, 8, 0)})
            await conn.execute(text(
                "INSERT INTO questions (id, status, topic, difficulty, kind, group_key, "
                "retired, data, synced_at) VALUES ('q-old', 'ready', 'T', 'easy', 'open', "
                "'q-old', false, :data, :at)"),
                {"data": '{"id": "q-old", "prompt": "Old?", "answer": "Yes.", '
                         '"source": {"file": "x.md", "line": 1}, "topic": "T"}',
                 "at": datetime(2027, 2, 26, 8, 0)})
            await conn.execute(text(
                "INSERT INTO posts (id, channel_pk, day, status, number, cycle, question_id, "
                "slot_at, claimed_at, send_lease_until) VALUES (1, 1, '2027-03-01', "
                "'pending', 1, 1, 'q-old', :slot, :slot, :lease)"),
                {"slot": monday_9.replace(tzinfo=None), "lease": datetime(2027, 3, 1, 9, 2)})
    finally:
        await db.dispose()
    await upgrade(database_url)

    clock = FakeClock(datetime(2027, 3, 1, 9, 10, tzinfo=UTC))
    outbound = ConsoleOutbound()
    core = await make_core(database_url, bank_dir, clock, outbound)
    await core.start()
    try:
        [post] = outbound.posts()
        assert post.channel == CHANNEL and post.message is not None
        assert post.message.title == "Question #1"
        await core.advance_to(datetime(2027, 3, 2, 9, 5, tzinfo=UTC))  # Tuesday's slot
        assert len(outbound.posts()) == 2
        async with core.db.uow() as uow:
            channel = await uow.channels.by_pk(1)
            assert channel is not None
            assert channel.next_slot_at == datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    finally:
        await core.stop()
