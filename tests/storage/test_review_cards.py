"""The tables of migration 0006 (review cards and logs, the forget marker, reminders,
nudges, channels.adaptive) on both backends: the migration goes down and up without
losing the board triggers, the constraints hold, and the reads of personal review use
their indexes (no full scan of review logs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from bot.service.review import sync_user
from storage.migrate import alembic_config, upgrade
from storage.models import (
    AttemptRow,
    CardRow,
    ChannelRow,
    NudgeRow,
    PostRow,
    QuestionRow,
    ReminderRow,
    ReviewLogRow,
    UserRow,
)
from storage.uow import Database, UnitOfWork
from tests.plans import no_full_scan, plan_of

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
DAYS, USERS = 60, 30
REVIEW_TABLES = {"cards", "review_logs", "review_resets", "card_syncs", "reminders", "nudges"}


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_url)
    try:
        yield database
    finally:
        await database.dispose()


async def _fill(db: Database) -> None:
    """One channel, a question per day, every user answering most days."""
    async with db.uow() as uow:
        s = uow.session
        await s.execute(insert(QuestionRow), [{
            "id": f"q{d}", "status": "ready", "topic": f"T{d % 4}", "difficulty": "easy",
            "kind": "open", "group_key": f"q{d}", "retired": False, "data": {},
            "synced_at": NOW} for d in range(DAYS)])
        await s.execute(insert(ChannelRow), [{
            "id": 1, "platform": "console", "workspace_id": "w", "channel_id": "c1",
            "scheduled": True, "paused": False, "post_time": "09:00", "timezone": "UTC",
            "days": "daily", "cycle": 1, "draws": 0, "include_topics": [],
            "exclude_topics": [], "created_at": NOW}])
        await s.execute(insert(UserRow), [{
            "id": u, "platform": "console", "workspace_id": "w", "user_id": f"u{u}",
            "display_name": f"U{u}", "updated_at": NOW} for u in range(1, USERS + 1)])
        posts = [{
            "id": d + 1, "channel_pk": 1, "day": date(2027, 1, 1) + timedelta(d),
            "status": "sent", "question_id": f"q{d}", "number": d + 1, "cycle": 1,
            "claimed_at": NOW - timedelta(days=DAYS - d),
            "posted_at": NOW - timedelta(days=DAYS - d), "send_token": 0, "send_attempts": 0,
            "reveal_token": 0, "reveal_attempts": 0} for d in range(DAYS)]
        await s.execute(insert(PostRow), posts)
        await s.execute(insert(AttemptRow), [{
            "post_id": p["id"], "user_pk": u, "points": 1.0, "signal": "yes" if u % 3 else "no",
            "first_at": p["posted_at"], "updated_at": p["posted_at"],
            "peeked_before": False, "after_reveal": False}
            for p in posts for u in range(1, USERS + 1) if (p["id"] + u) % 5])
        await uow.commit()


async def _tables(db: Database) -> tuple[set[str], set[str]]:
    async with db.engine.connect() as conn:
        def read(sync: Any) -> tuple[set[str], set[str]]:
            found = inspect(sync)
            return (set(found.get_table_names()),
                    {c["name"] for c in found.get_columns("channels")})
        return await conn.run_sync(read)


async def _board_trigger(db: Database) -> int:
    sql = ("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
           "name = 'trg_channels_totals_delete'" if db.dialect == "sqlite" else
           "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
           "WHERE t.tgname = 'trg_channels_totals_delete' "
           "AND c.relnamespace = current_schema()::regnamespace")  # this test's schema
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar() or 0)


async def test_migration_goes_down_and_up(db: Database, migrated_url: str) -> None:
    from alembic import command

    tables, columns = await _tables(db)
    assert tables >= REVIEW_TABLES and "adaptive" in columns
    assert await _board_trigger(db) == 1
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0005"))
    tables, columns = await _tables(db)
    assert not REVIEW_TABLES & tables and "adaptive" not in columns
    assert await _board_trigger(db) == 1  # channels was altered in place, not rebuilt
    await upgrade(migrated_url)
    tables, columns = await _tables(db)
    assert tables >= REVIEW_TABLES and "adaptive" in columns


async def _card(uow: UnitOfWork, user_pk: int, group: str) -> int:
    card = CardRow(user_pk=user_pk, group_key=group, question_id=group, state=1, step=0,
                   due=NOW, created_at=NOW, source="added")
    uow.session.add(card)
    await uow.session.flush()
    return card.id


async def test_constraints(db: Database) -> None:
    await _fill(db)
    async with db.uow() as uow:
        card = await _card(uow, 1, "q1")
        await uow.commit()
    async with db.uow() as uow:  # one card per person and group
        with pytest.raises(IntegrityError):
            await _card(uow, 1, "q1")
    async with db.uow() as uow:
        assert await _card(uow, 2, "q1")  # another person's card for the same group
        attempt = await uow.session.scalar(
            select(AttemptRow.id).where(AttemptRow.user_pk == 1).limit(1))
        assert attempt is not None
        await uow.cards.upsert_attempt_log(card, attempt, NOW, 1, NOW)
        await uow.cards.upsert_attempt_log(card, attempt, NOW + timedelta(1), 3, NOW)
        await uow.commit()
    async with db.uow() as uow:  # the attempt's one log, re-rated in place
        logs = (await uow.session.execute(select(ReviewLogRow.rating, ReviewLogRow.attempt_id)))
        assert [tuple(r) for r in logs] == [(3, attempt)]
        await uow.session.execute(delete(AttemptRow).where(AttemptRow.id == attempt))
        await uow.commit()
    async with db.uow() as uow:  # a withdrawn attempt leaves its review behind
        assert (await uow.session.scalar(select(ReviewLogRow.attempt_id))) is None
        uow.session.add(ReminderRow(user_pk=1, local_time="08:30", timezone="Europe/Berlin",
                                    next_at=NOW, updated_at=NOW))
        uow.session.add(NudgeRow(user_pk=1, day=date(2027, 3, 10), status="pending"))
        await uow.commit()
    async with db.uow() as uow:  # one nudge per person and local day
        uow.session.add(NudgeRow(user_pk=1, day=date(2027, 3, 10), status="pending"))
        with pytest.raises(IntegrityError):
            await uow.session.flush()
    async with db.uow() as uow:  # a user's deletion takes everything of theirs
        await uow.session.execute(delete(UserRow).where(UserRow.id == 1))
        await uow.commit()
    async with db.uow() as uow:
        for model in (ReviewLogRow, ReminderRow, NudgeRow):
            assert await uow.session.scalar(select(func.count()).select_from(model)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(CardRow)) == 1


async def test_sync_is_one_indexed_anti_join(db: Database) -> None:
    await _fill(db)
    async with db.uow() as uow:
        for user in range(1, USERS + 1):
            assert await sync_user(uow, user, NOW) > 0
        await uow.commit()
    async with db.uow() as uow:
        assert await sync_user(uow, 7, NOW) == 0  # nothing changed: nothing touched

    async def stale(uow: UnitOfWork) -> None:
        assert await uow.cards.stale_attempts(7) == []

    plan = await plan_of(db, stale, "review_logs", force=True)
    assert "ix_attempts_user" in plan, plan
    # the unique index on review_logs.attempt_id (SQLite names it itself)
    assert "uq_review_logs_attempt_id" in plan or "autoindex_review_logs" in plan, plan
    no_full_scan(plan, "review_logs")
    no_full_scan(plan, "attempts")


async def test_a_later_sync_reads_only_what_changed_since_the_last(db: Database) -> None:
    """After a sync, the next one reads the person's attempts changed since (less the
    margin), by the range of ix_attempts_user_updated: a long history costs nothing.
    An attempt stamped before the mark but inside the margin (a transaction in flight
    while the last sync read) is still re-rated."""
    await _fill(db)
    async with db.uow() as uow:
        assert await sync_user(uow, 7, NOW) > 0
        await uow.commit()
    later = NOW + timedelta(hours=2)
    async with db.uow() as uow:
        attempt = (await uow.session.scalars(
            select(AttemptRow).where(AttemptRow.user_pk == 7)
            .order_by(AttemptRow.first_at.desc()).limit(1))).one()
        # stamped an hour before the sync that has just run, committed after it
        attempt.signal = "no" if attempt.signal == "yes" else "yes"
        attempt.updated_at = NOW - timedelta(hours=1)
        attempt_id = attempt.id
        await uow.commit()
    async with db.uow() as uow:
        assert await sync_user(uow, 7, later) == 1
        await uow.commit()
    async with db.uow() as uow:
        stamped = await uow.session.scalar(select(ReviewLogRow.attempt_updated_at).where(
            ReviewLogRow.attempt_id == attempt_id))
        assert stamped is not None and stamped.replace(tzinfo=UTC) == NOW - timedelta(hours=1)
        assert await sync_user(uow, 7, later) == 0

    async def recent(uow: UnitOfWork) -> None:
        assert await uow.cards.stale_attempts(7, NOW - timedelta(days=1)) == []

    plan = await plan_of(db, recent, "review_logs", force=True)
    assert "ix_attempts_user_updated" in plan, plan
    no_full_scan(plan, "review_logs")
    no_full_scan(plan, "attempts")


async def test_due_card_selection_reads_the_users_index(db: Database) -> None:
    await _fill(db)
    async with db.uow() as uow:
        for user in range(1, USERS + 1):
            await sync_user(uow, user, NOW)
        await uow.commit()

    async def due(uow: UnitOfWork) -> None:
        await uow.cards.next_due(7, NOW + timedelta(days=30))

    plan = await plan_of(db, due, "FROM cards", force=True)
    assert "ix_cards_user_due" in plan, plan
    no_full_scan(plan, "cards")
