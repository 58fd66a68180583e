"""Migration 0007 (issue 16): channels.answer_mode, "buttons" for every existing row, and
posts.seed_due_at, on both backends, and down and up again."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import text

from storage.migrate import alembic_config, upgrade
from storage.uow import Database


async def _modes(db: Database) -> list[tuple[str, str]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT channel_id, answer_mode FROM channels ORDER BY channel_id"))
        return [(str(a), str(b)) for a, b in rows]


async def test_existing_channels_become_buttons_and_the_column_goes_down_and_up(
        database_url: str) -> None:
    await upgrade(database_url, "0006")
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            for channel in ("c1", "c2"):
                await conn.execute(text(
                    "INSERT INTO channels (platform, workspace_id, channel_id, scheduled, "
                    "paused, post_time, timezone, days, cycle, draws, include_topics, "
                    "exclude_topics, created_at) VALUES ('console', 'ws1', :c, false, false, "
                    "'09:00', 'UTC', 'mon', 1, 0, '[]', '[]', :at)"),
                    {"c": channel, "at": datetime(2027, 3, 1, 9, 0)})
        await upgrade(database_url)
        assert await _modes(db) == [("c1", "buttons"), ("c2", "buttons")]
        async with db.engine.begin() as conn:
            await conn.execute(text(
                "UPDATE channels SET answer_mode = 'reactions' WHERE channel_id = 'c2'"))
        assert await _modes(db) == [("c1", "buttons"), ("c2", "reactions")]
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0006"))
        async with db.engine.connect() as conn:
            columns = (await conn.execute(text("SELECT * FROM channels LIMIT 1"))).keys()
            post_columns = (await conn.execute(text("SELECT * FROM posts LIMIT 1"))).keys()
        assert "answer_mode" not in columns and "seed_due_at" not in post_columns
        await upgrade(database_url)
        assert await _modes(db) == [("c1", "buttons"), ("c2", "buttons")]
        await db.engine.dispose()  # asyncpg's cached `SELECT *` predates the new column
        async with db.engine.connect() as conn:
            post_columns = (await conn.execute(text("SELECT * FROM posts LIMIT 1"))).keys()
        assert "seed_due_at" in post_columns
    finally:
        await db.dispose()
