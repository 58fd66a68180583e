"""The all-time board totals (migration 0004) stay equal to the GROUP BY over attempts
whatever writes attempts, posts or channels, on both backends; the board read from them
is the board summed from attempts; `qotd db sync` repairs them; the migration goes down
and up again."""

from __future__ import annotations

import asyncio
import random
from argparse import Namespace
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from storage.migrate import upgrade
from storage.models import (
    AttemptRow,
    ChannelRow,
    ChannelTotalRow,
    PostRow,
    QuestionRow,
    UserRow,
    WorkspaceTotalRow,
)
from storage.queries import Queries
from storage.uow import Database

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
# channel pk -> workspace; the users are (platform, workspace) rows of their own
CHANNELS = {1: "w", 2: "w", 3: "x"}
USERS = 7
POINTS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]  # what bot.rules.scoring can give

Totals = dict[tuple[Any, ...], tuple[float, datetime, int]]


async def _fill(db: Database, posts_per_channel: int = 4) -> list[int]:
    """Channels of two workspaces, users, posts (one of each channel's still pending)."""
    async with db.uow() as uow:
        s = uow.session
        await s.execute(insert(QuestionRow), [{
            "id": "q1", "status": "active", "topic": "T", "difficulty": "easy", "kind": "choice",
            "group_key": "q1", "retired": False, "data": {}, "synced_at": NOW,
        }])
        await s.execute(insert(ChannelRow), [{
            "id": c, "platform": "console", "workspace_id": w, "channel_id": f"c{c}",
            "scheduled": True, "paused": False, "post_time": "09:00", "timezone": "UTC",
            "days": "daily", "cycle": 1, "draws": 0, "include_topics": [], "exclude_topics": [],
            "created_at": NOW,
        } for c, w in CHANNELS.items()])
        await s.execute(insert(UserRow), [{
            "id": u, "platform": "console", "workspace_id": "w", "user_id": f"u{u}",
            "display_name": f"U{u}", "updated_at": NOW,
        } for u in range(1, USERS + 1)])
        posts: list[dict[str, Any]] = []
        for c in CHANNELS:
            for d in range(posts_per_channel):
                at = NOW - timedelta(days=posts_per_channel - d)
                posts.append({
                    "id": len(posts) + 1, "channel_pk": c, "day": None,
                    "status": "pending" if d == posts_per_channel - 1 else "sent",
                    "question_id": "q1", "claimed_at": at,
                    "posted_at": at, "send_token": 0, "send_attempts": 0, "reveal_token": 0,
                    "reveal_attempts": 0,
                })
        await s.execute(insert(PostRow), posts)
        await uow.commit()
    return [p["id"] for p in posts]


async def _stored(db: Database) -> tuple[Totals, Totals]:
    async with db.uow() as uow:
        ch = (await uow.session.execute(select(
            ChannelTotalRow.channel_pk, ChannelTotalRow.user_pk, ChannelTotalRow.points,
            ChannelTotalRow.first_at, ChannelTotalRow.attempts))).all()
        ws = (await uow.session.execute(select(
            WorkspaceTotalRow.platform, WorkspaceTotalRow.workspace_id,
            WorkspaceTotalRow.user_pk, WorkspaceTotalRow.points, WorkspaceTotalRow.first_at,
            WorkspaceTotalRow.attempts))).all()
    return ({(c, u): (p, f, n) for c, u, p, f, n in ch},
            {(pl, w, u): (p, f, n) for pl, w, u, p, f, n in ws})


async def _expected(db: Database) -> tuple[Totals, Totals]:
    """The GROUP BY over attempts on sent posts, done here from the plain rows."""
    async with db.uow() as uow:
        rows = (await uow.session.execute(
            select(PostRow.channel_pk, ChannelRow.platform, ChannelRow.workspace_id,
                   AttemptRow.user_pk, AttemptRow.points, AttemptRow.first_at)
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .join(ChannelRow, ChannelRow.id == PostRow.channel_pk)
            .where(PostRow.status == "sent"))).all()
    sums: dict[str, dict[tuple[Any, ...], list[Any]]] = {"ch": defaultdict(list),
                                                         "ws": defaultdict(list)}
    for c, platform, w, u, points, first in rows:
        sums["ch"][(c, u)].append((points, first))
        sums["ws"][(platform, w, u)].append((points, first))

    def totals(groups: dict[tuple[Any, ...], list[Any]]) -> Totals:
        return {k: (sum(p for p, _ in v), min(f for _, f in v), len(v))
                for k, v in groups.items()}

    return totals(sums["ch"]), totals(sums["ws"])


async def _check(db: Database, step: str) -> None:
    assert await _stored(db) == await _expected(db), step


def _upsert(dialect: str, post: int, user: int, points: float, at: datetime) -> Any:
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(AttemptRow).values(
        post_id=post, user_pk=user, points=points, first_at=at, updated_at=at,
        peeked_before=False, after_reveal=False)
    return stmt.on_conflict_do_update(
        index_elements=["post_id", "user_pk"],
        set_={"points": stmt.excluded.points, "updated_at": stmt.excluded.updated_at})


async def _random_step(db: Database, rng: random.Random, posts: list[int]) -> str:
    """One change of the kind some writer makes, in its own transaction."""
    async with db.uow() as uow:
        s = uow.session
        existing = (await s.execute(select(AttemptRow.id, AttemptRow.post_id,
                                           AttemptRow.user_pk))).all()
        taken = {(p, u) for _, p, u in existing}
        live = list((await s.scalars(select(PostRow.id))).all())
        free = [(p, u) for p in live for u in range(1, USERS + 1) if (p, u) not in taken]
        at = NOW - timedelta(minutes=rng.randrange(10_000))
        kind = rng.choice(["insert", "insert", "upsert", "points", "points", "first_at",
                           "move", "delete", "orm", "status", "rollback"])
        if not existing or kind == "insert":
            kind = "insert"
            if free:
                p, u = rng.choice(free)
                await s.execute(insert(AttemptRow).values(
                    post_id=p, user_pk=u, points=rng.choice(POINTS), first_at=at,
                    updated_at=at, peeked_before=False, after_reveal=False))
        elif kind == "upsert":
            p, u = rng.choice([(p, u) for _, p, u in existing] + free)
            await s.execute(_upsert(db.dialect, p, u, rng.choice(POINTS), at))
        elif kind == "points":
            pk = rng.choice(existing)[0]
            await s.execute(update(AttemptRow).where(AttemptRow.id == pk)
                            .values(points=rng.choice(POINTS), updated_at=at))
        elif kind == "first_at":
            pk = rng.choice(existing)[0]
            await s.execute(update(AttemptRow).where(AttemptRow.id == pk)
                            .values(first_at=at, points=rng.choice(POINTS)))
        elif kind == "move" and free:
            pk = rng.choice(existing)[0]
            p, u = rng.choice(free)
            await s.execute(update(AttemptRow).where(AttemptRow.id == pk)
                            .values(post_id=p, user_pk=u))
        elif kind == "delete":
            pk = rng.choice(existing)[0]
            await s.execute(delete(AttemptRow).where(AttemptRow.id == pk))
        elif kind == "orm":  # the unit of work's own path: load, change, flush
            row = await s.get(AttemptRow, rng.choice(existing)[0])
            assert row is not None
            if rng.random() < 0.3:
                await s.delete(row)
            else:
                row.points = rng.choice(POINTS)
        elif kind == "status":
            pk = rng.choice(live)
            status = (await s.get(PostRow, pk)).status  # type: ignore[union-attr]
            await s.execute(update(PostRow).where(PostRow.id == pk).values(
                status="sent" if status != "sent" else rng.choice(["skipped", "pending"])))
        elif kind == "rollback":
            pk = rng.choice(existing)[0]
            await s.execute(update(AttemptRow).where(AttemptRow.id == pk).values(points=99.0))
            await s.rollback()
            return kind
        await uow.commit()
    return kind


@pytest.fixture
async def db(migrated_url: str) -> Any:
    database = Database(migrated_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_totals_follow_every_change_of_attempts(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    posts = await _fill(db)
    await _check(db, "empty")
    for n in range(120):
        kind = await _random_step(db, rng, posts)
        await _check(db, f"step {n}: {kind}")


async def test_deleting_posts_users_and_channels_subtracts_their_attempts(db: Database
                                                                          ) -> None:
    rng = random.Random(7)
    posts = await _fill(db)
    for _ in range(60):
        await _random_step(db, rng, posts)
    for target in (delete(PostRow).where(PostRow.id == posts[0]),
                   delete(UserRow).where(UserRow.id == 2),
                   delete(ChannelRow).where(ChannelRow.id == 2),
                   delete(ChannelRow).where(ChannelRow.id == 3)):
        async with db.uow() as uow:
            await uow.session.execute(target)
            await uow.commit()
        await _check(db, str(target))
    ch, ws = await _stored(db)
    assert {c for c, _ in ch} <= {1} and all(u != 2 for *_, u in ws)


async def test_all_time_board_from_totals_is_the_summed_board(db: Database) -> None:
    """Same rows, ranks and order as the GROUP BY board for every scope and caller,
    ties included (few point values, many members)."""
    rng = random.Random(11)
    posts = await _fill(db, posts_per_channel=6)
    for _ in range(150):
        await _random_step(db, rng, posts)
    async with db.uow() as uow:
        q: Queries = uow.queries
        for top in (1, 3, 10):
            for caller in [None, 999, *range(1, USERS + 1)]:
                for channel in CHANNELS:
                    want = await q.board([channel], None, caller, top)
                    got = await q.board_all_time(channel, None, caller, top)
                    assert got == want, (top, caller, channel)
                for w in ("w", "x"):
                    pks = [c for c, ws in CHANNELS.items() if ws == w]
                    want = await q.board(pks, None, caller, top)
                    got = await q.board_all_time(None, ("console", w), caller, top)
                    assert got == want, (top, caller, w)


async def test_db_sync_repairs_corrupted_totals(db: Database, migrated_url: str,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli_core import _db_sync

    rng = random.Random(5)
    posts = await _fill(db)
    for _ in range(40):
        await _random_step(db, rng, posts)
    good = await _stored(db)
    async with db.uow() as uow:
        s = uow.session
        await s.execute(text("UPDATE board_channel_totals SET points = points + 7"))
        await s.execute(text("DELETE FROM board_workspace_totals WHERE user_pk = 1"))
        await s.execute(insert(ChannelTotalRow).values(
            channel_pk=3, user_pk=USERS + 5, points=1.0, first_at=NOW, attempts=1))
        await uow.commit()
    assert await _stored(db) != good
    bank = tmp_path / "empty-bank"
    bank.mkdir()
    monkeypatch.setenv("QOTD_BANK_DIR", str(bank))
    code = await asyncio.to_thread(_db_sync, Namespace(db=migrated_url))
    assert code == 1  # the bank is empty, so nothing else changed; the totals did
    assert await _stored(db) == good


async def test_migration_goes_down_and_up_with_the_totals(db: Database,
                                                          migrated_url: str) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    rng = random.Random(3)
    posts = await _fill(db)
    for _ in range(30):
        await _random_step(db, rng, posts)
    good = await _stored(db)
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0003"))
    async with db.uow() as uow:  # attempts change while the triggers are gone
        await uow.session.execute(update(AttemptRow).values(points=AttemptRow.points + 1))
        await uow.commit()
    await upgrade(migrated_url)  # the upgrade sums them again
    await _check(db, "after down and up")
    assert await _stored(db) != good
