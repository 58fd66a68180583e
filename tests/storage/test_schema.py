"""The schema comes from the migrations, agrees with the models, and enforces the
invariants itself (on both SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.models import Base, ChannelRow
from storage.repositories import PENDING
from storage.uow import Database

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def test_migrations_match_the_models(migrated_url: str) -> None:
    db = Database(migrated_url)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await db.dispose()
    assert diff == []


async def test_upgrade_twice_is_harmless(migrated_url: str) -> None:
    from storage.migrate import upgrade

    await upgrade(migrated_url)
    db = Database(migrated_url)
    try:
        async with db.engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await db.dispose()
    assert version == "0007"


async def test_sqlite_connections_get_pragmas(migrated_url: str) -> None:
    if not migrated_url.startswith("sqlite"):
        pytest.skip("SQLite pragmas only")
    db = Database(migrated_url)
    try:
        async with db.engine.connect() as conn:
            fk = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
    finally:
        await db.dispose()
    assert (fk, mode, busy) == (1, "wal", 10_000)


async def test_datetimes_come_back_aware_utc(migrated_url: str) -> None:
    db = Database(migrated_url)
    berlin = timezone(timedelta(hours=2))
    try:
        async with db.uow() as uow:
            row = await uow.channels.get_or_create("console", "w", "c", NOW.astimezone(berlin))
            await uow.commit()
            pk = row.id
        async with db.uow() as uow:
            again = await uow.channels.by_pk(pk)
            assert again is not None
            assert again.created_at == NOW
            assert again.created_at.tzinfo is not None
            assert again.created_at.utcoffset() == timedelta(0)
    finally:
        await db.dispose()


async def test_one_claim_per_channel_and_day(migrated_url: str) -> None:
    db = Database(migrated_url)
    try:
        async with db.uow() as uow:
            channel = await uow.channels.get_or_create("console", "w", "c", NOW)
            first = await uow.posts.claim(channel.id, date(2027, 3, 1), PENDING, NOW)
            second = await uow.posts.claim(channel.id, date(2027, 3, 1), PENDING, NOW)
            extra_a = await uow.posts.claim(channel.id, None, PENDING, NOW)
            extra_b = await uow.posts.claim(channel.id, None, PENDING, NOW)
            await uow.commit()
        assert first is not None and second is None
        assert extra_a is not None and extra_b is not None and extra_a != extra_b
    finally:
        await db.dispose()


async def test_channel_triple_is_unique(migrated_url: str) -> None:
    db = Database(migrated_url)
    try:
        async with db.uow() as uow:
            a = await uow.channels.get_or_create("console", "w", "c", NOW)
            b = await uow.channels.get_or_create("console", "w", "c", NOW)
            assert a.id == b.id
            uow.session.add(
                ChannelRow(
                    platform="console", workspace_id="w", channel_id="c", created_at=NOW,
                    include_topics=[], exclude_topics=[],
                )
            )
            with pytest.raises(IntegrityError):
                await uow.session.flush()
    finally:
        await db.dispose()


async def test_foreign_keys_are_enforced(migrated_url: str) -> None:
    db = Database(migrated_url)
    try:
        async with db.uow() as uow:
            with pytest.raises(IntegrityError):
                await uow.posts.claim(999, date(2027, 3, 1), PENDING, NOW)
    finally:
        await db.dispose()
