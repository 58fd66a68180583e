"""The week and month board totals (migration 0005): once a period is made, its totals
stay equal to the sum of the attempts first made in its span, whatever writes attempts,
posts or channels, on both backends; the board read from them is the summed board;
making a period waits only briefly for the writers, prunes the periods no longer kept and
loses no attempt written meanwhile; `qotd db sync` drops them all."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from argparse import Namespace
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text

from storage.models import (
    AttemptRow,
    BoardPeriodRow,
    ChannelRow,
    PeriodTotalRow,
    PostRow,
    UserRow,
)
from storage.queries import PeriodScope
from storage.uow import Database
from tests.storage.test_totals import CHANNELS, NOW, USERS, _fill, _random_step

Totals = dict[tuple[int, int], tuple[float, datetime, int]]
SINCE = NOW - timedelta(days=3)
KEEP = NOW + timedelta(days=5)


def _scopes() -> list[PeriodScope]:
    return [("console", w, c) for c, w in CHANNELS.items()] + [
        ("console", "w", 0), ("console", "x", 0)]


async def _make(db: Database, scope: PeriodScope, since: datetime = SINCE,
                keep: datetime = KEEP, now: datetime = NOW) -> int:
    async with db.uow() as uow:
        period = await uow.queries.make_period(scope, since, keep, now)
        await uow.commit()
    assert period is not None
    return period


async def _stored(db: Database) -> Totals:
    async with db.uow() as uow:
        rows = (await uow.session.execute(select(
            PeriodTotalRow.period_id, PeriodTotalRow.user_pk, PeriodTotalRow.points,
            PeriodTotalRow.first_at, PeriodTotalRow.attempts))).all()
    return {(p, u): (points, first, n) for p, u, points, first, n in rows}


async def _expected(db: Database) -> Totals:
    """Each period's sum, done here from the plain rows: the attempts on sent posts of
    the period's scope first made in [since, keep_until)."""
    async with db.uow() as uow:
        periods = (await uow.session.execute(select(
            BoardPeriodRow.id, BoardPeriodRow.platform, BoardPeriodRow.workspace_id,
            BoardPeriodRow.channel_pk, BoardPeriodRow.since,
            BoardPeriodRow.keep_until))).all()
        attempts = (await uow.session.execute(
            select(PostRow.channel_pk, ChannelRow.platform, ChannelRow.workspace_id,
                   AttemptRow.user_pk, AttemptRow.points, AttemptRow.first_at)
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .join(ChannelRow, ChannelRow.id == PostRow.channel_pk)
            .where(PostRow.status == "sent"))).all()
    groups: dict[tuple[int, int], list[tuple[float, datetime]]] = defaultdict(list)
    for pid, platform, w, c, since, keep in periods:
        for channel, a_platform, a_w, user, points, first in attempts:
            if (a_platform, a_w) == (platform, w) and c in (0, channel) \
                    and since <= first < keep:
                groups[(pid, user)].append((points, first))
    return {k: (sum(p for p, _ in v), min(f for _, f in v), len(v)) for k, v in groups.items()}


async def _check(db: Database, step: str) -> None:
    assert await _stored(db) == await _expected(db), step


@pytest.fixture
async def db(migrated_url: str) -> Any:
    database = Database(migrated_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.mark.parametrize("seed", [1, 2])
async def test_period_totals_follow_every_change_of_attempts(db: Database, seed: int
                                                             ) -> None:
    rng = random.Random(seed)
    posts = await _fill(db)
    for _ in range(20):
        await _random_step(db, rng, posts)
    for scope in _scopes():
        await _make(db, scope)
    # a past period, still kept at the time it was made: it counts only its own span
    await _make(db, ("console", "w", 0), NOW - timedelta(days=6), NOW - timedelta(days=2),
                now=NOW - timedelta(days=5))
    await _check(db, "made")
    for n in range(100):
        kind = await _random_step(db, rng, posts)
        await _check(db, f"step {n}: {kind}")


async def test_deleting_posts_users_and_channels_subtracts_from_periods(db: Database
                                                                        ) -> None:
    rng = random.Random(8)
    posts = await _fill(db)
    for _ in range(50):
        await _random_step(db, rng, posts)
    for scope in _scopes():
        await _make(db, scope)
    for target in (delete(PostRow).where(PostRow.id == posts[0]),
                   delete(UserRow).where(UserRow.id == 2),
                   delete(ChannelRow).where(ChannelRow.id == 2)):
        async with db.uow() as uow:
            await uow.session.execute(target)
            await uow.commit()
        await _check(db, str(target))


async def test_period_board_is_the_summed_board(db: Database) -> None:
    """Same rows, ranks and order as the GROUP BY board since the period's start, for
    every scope, caller and size of the top, ties included."""
    rng = random.Random(12)
    posts = await _fill(db, posts_per_channel=6)
    for _ in range(150):
        await _random_step(db, rng, posts)
    for since in (SINCE, NOW - timedelta(days=30)):
        periods = {scope: await _make(db, scope, since) for scope in _scopes()}
        async with db.uow() as uow:
            q = uow.queries
            for (_, w, c), period in periods.items():
                pks = [c] if c else [pk for pk, ws in CHANNELS.items() if ws == w]
                for top in (1, 3, 10):
                    for caller in [None, 999, *range(1, USERS + 1)]:
                        want = await q.board(pks, since, caller, top)
                        assert want or c == 3 or since == SINCE  # the data has boards
                        got = await q.board_of_period(period, caller, top)
                        assert got == want, (w, c, since, top, caller)


async def test_live_period_is_found_until_its_keep_and_remade_after(db: Database) -> None:
    await _fill(db)
    week = ("console", "w", 1)
    period = await _make(db, week)
    async with db.uow() as uow:
        q = uow.queries
        assert await q.live_period(week, SINCE, KEEP, NOW) == period
        # a month from the same start needs a longer keep: not this row
        assert await q.live_period(week, SINCE, KEEP + timedelta(days=20), NOW) is None
        assert await q.live_period(week, SINCE, KEEP, KEEP) is None  # no longer kept
        assert await q.live_period(("console", "w", 0), SINCE, KEEP, NOW) is None
    # making a period removes the periods no longer kept, and its own earlier row
    other = await _make(db, ("console", "x", 0), NOW, NOW + timedelta(days=8),
                        now=KEEP + timedelta(seconds=1))
    again = await _make(db, week, SINCE, KEEP + timedelta(days=20))
    async with db.uow() as uow:
        ids = set((await uow.session.scalars(select(BoardPeriodRow.id))).all())
    assert ids == {other, again} and period not in ids
    await _check(db, "remade")


async def test_making_a_period_loses_no_concurrent_attempt(db: Database) -> None:
    """Writers add attempts while periods are made again and again: every attempt is in
    the totals afterwards (the fill and the triggers never both miss, nor both count)."""
    posts = await _fill(db)
    sent = [p for p in posts if p % 4 != 0]  # the last post of each channel is pending
    pairs = [(p, u) for p in sent for u in range(1, USERS + 1)]
    random.Random(4).shuffle(pairs)

    async def writer(chunk: list[tuple[int, int]]) -> None:
        for p, u in chunk:
            async with db.uow() as uow:
                at = NOW - timedelta(minutes=(p * 7 + u) % 4000)
                await uow.session.execute(insert(AttemptRow).values(
                    post_id=p, user_pk=u, points=1.0, first_at=at, updated_at=at,
                    peeked_before=False, after_reveal=False))
                await uow.commit()

    async def maker() -> int:
        made = 0
        for n in range(12):
            scope = _scopes()[n % len(_scopes())]
            async with db.uow() as uow:
                if await uow.queries.make_period(scope, SINCE, KEEP, NOW) is not None:
                    made += 1
                await uow.commit()
        return made

    half = len(pairs) // 2
    *_, made = await asyncio.gather(writer(pairs[:half]), writer(pairs[half:]), maker())
    assert made >= 1
    await _check(db, "after concurrent writers")


async def test_making_a_period_gives_way_to_a_writer_holding_the_tables(
    db: Database, migrated_url: str
) -> None:
    """Another connection holds the writers' lock (SQLite: the write lock; PostgreSQL: a
    transaction writing attempts): making waits about half a second, then says None (the
    board is summed that once), and changes nothing."""
    await _fill(db)
    if db.dialect == "sqlite":
        path = migrated_url.split("///", 1)[1]
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        release: Any = lambda: holder.execute("ROLLBACK")  # noqa: E731
    else:
        conn = await db.engine.connect()
        await conn.execute(text("LOCK TABLE attempts IN ROW EXCLUSIVE MODE"))

        async def release() -> None:
            await conn.rollback()
            await conn.close()
    try:
        started = time.monotonic()
        async with db.uow() as uow:
            assert await uow.queries.make_period(("console", "w", 1), SINCE, KEEP, NOW) is None
            await uow.commit()
        waited = time.monotonic() - started
    finally:
        result = release()
        if asyncio.iscoroutine(result):
            await result
    assert 0.3 <= waited < 5, waited
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(BoardPeriodRow.id))).all() == []
    # the next making succeeds; on SQLite every pooled connection waits as long as ever
    await _make(db, ("console", "w", 1))
    if db.dialect == "sqlite":
        holder.close()
        from storage.engine import SQLITE_BUSY_TIMEOUT_MS

        conns = [await db.engine.connect() for _ in range(3)]
        try:
            for conn in conns:
                wait = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
                assert wait == SQLITE_BUSY_TIMEOUT_MS
        finally:
            for conn in conns:
                await conn.close()


async def test_db_sync_drops_the_periods(db: Database, migrated_url: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli_core import _db_sync

    await _fill(db)
    for scope in _scopes():
        await _make(db, scope)
    bank = tmp_path / "empty-bank"
    bank.mkdir()
    monkeypatch.setenv("QOTD_BANK_DIR", str(bank))
    await asyncio.to_thread(_db_sync, Namespace(db=migrated_url))
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(BoardPeriodRow.id))).all() == []
        assert (await uow.session.scalars(select(PeriodTotalRow.user_pk))).all() == []


async def test_a_tie_groups_answers_are_those_of_its_members(db: Database) -> None:
    """recent_streak_facts(group=...) selects the members with those points from the
    totals itself: the same answers as when their keys are sent."""
    from storage.models import ChannelTotalRow, WorkspaceTotalRow
    from storage.queries import TieGroup

    rng = random.Random(21)
    posts = await _fill(db, posts_per_channel=6)
    async with db.uow() as uow:  # scheduled posts (a day each), which streaks count
        for post in (await uow.session.scalars(select(PostRow))).all():
            assert post.posted_at is not None
            post.day = post.posted_at.date()
        await uow.commit()
    for _ in range(150):
        await _random_step(db, rng, posts)
    period = await _make(db, ("console", "w", 0))
    sources: list[tuple[str, tuple[Any, ...], Any, list[Any]]] = [
        ("channel", (1,), ChannelTotalRow, [ChannelTotalRow.channel_pk == 1]),
        ("workspace", ("console", "w"), WorkspaceTotalRow,
         [WorkspaceTotalRow.platform == "console", WorkspaceTotalRow.workspace_id == "w"]),
        ("period", (period,), PeriodTotalRow, [PeriodTotalRow.period_id == period]),
    ]
    pks = [c for c, w in CHANNELS.items() if w == "w"]
    checked = 0
    async with db.uow() as uow:
        q = uow.queries
        for kind, key, table, scope in sources:
            rows = (await uow.session.execute(
                select(table.user_pk, table.points).where(*scope))).all()
            for points in {p for _, p in rows}:
                members = sorted(u for u, p in rows if p == points)
                for window in (2, 5):
                    want = await q.recent_streak_facts(pks, members, window)
                    got = await q.recent_streak_facts(pks, [], window,
                                                      group=TieGroup(kind, key, points))
                    assert got[0] == want[0] and got[1] == want[1]
                    assert sorted(got[2], key=repr) == sorted(want[2], key=repr)
                    checked += bool(want[2])
    assert checked >= 5
