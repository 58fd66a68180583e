"""The leaderboard's statements use the indexes of migrations 0003 and 0004 on both
backends, so a later change cannot silently bring the full scans of attempts back.

The statements are the ones the code really sends (captured at the cursor), explained
on the same connection: EXPLAIN QUERY PLAN on SQLite; EXPLAIN after VACUUM ANALYZE on
PostgreSQL, on data shaped like a real server's (many channels, two workspaces, weeks
of posts), so the planner's choice is the one it makes on cost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from storage.models import AttemptRow, ChannelRow, PostRow, QuestionRow, UserRow
from storage.queries import Queries
from storage.uow import Database
from tests.plans import no_full_scan, plan_of

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)  # a Wednesday
SINCE = datetime(2027, 3, 8, 0, 0, tzinfo=UTC)
CHANNELS, DAYS, USERS = 12, 60, 40


async def _fill(db: Database) -> tuple[list[int], list[int]]:
    """A few channels, daily sent posts and attempts: enough rows for an index to matter."""
    async with db.uow() as uow:
        s = uow.session
        await s.execute(insert(QuestionRow), [{
            "id": "q1", "status": "active", "topic": "T", "difficulty": "easy", "kind": "choice",
            "group_key": "q1", "retired": False, "data": {}, "synced_at": NOW,
        }])
        await s.execute(insert(ChannelRow), [{
            "id": c, "platform": "console", "workspace_id": "w" if c <= CHANNELS // 2 else "x", "channel_id": f"c{c}",
            "scheduled": True, "paused": False, "post_time": "09:00", "timezone": "UTC",
            "days": "daily", "cycle": 1, "draws": 0, "include_topics": [], "exclude_topics": [],
            "created_at": NOW,
        } for c in range(1, CHANNELS + 1)])
        await s.execute(insert(UserRow), [{
            "id": u, "platform": "console", "workspace_id": "w", "user_id": f"u{u}",
            "display_name": f"U{u}", "updated_at": NOW,
        } for u in range(1, USERS + 1)])
        posts: list[dict[str, Any]] = []
        for c in range(1, CHANNELS + 1):
            for d in range(DAYS):
                at = NOW - timedelta(days=DAYS - d)
                posts.append({
                    "id": len(posts) + 1, "channel_pk": c, "day": date(2027, 1, 1) + timedelta(d),
                    "status": "sent", "question_id": "q1", "claimed_at": at, "posted_at": at,
                    "send_token": 0, "send_attempts": 0, "reveal_token": 0, "reveal_attempts": 0,
                })
        await s.execute(insert(PostRow), posts)
        attempts = [{
            "post_id": p["id"], "user_pk": u, "points": float(u % 3), "first_at": p["posted_at"],
            "updated_at": p["posted_at"], "peeked_before": False, "after_reveal": False,
        } for p in posts for u in range(1, USERS + 1) if (p["id"] + u) % 2]
        await s.execute(insert(AttemptRow), attempts)
        await uow.commit()
    return list(range(1, CHANNELS // 2 + 1)), [1, 2, 3]


async def _plan(db: Database, run: Callable[[Queries], Awaitable[Any]], marker: str,
                force: bool = False) -> str:
    return await plan_of(db, lambda uow: run(uow.queries), marker, force=force)


@pytest.fixture
async def filled(migrated_url: str) -> Any:
    db = Database(migrated_url)
    try:
        channels, users = await _fill(db)
        yield db, channels, users
    finally:
        await db.dispose()


@pytest.mark.parametrize("since", [SINCE, None], ids=["week", "all"])
@pytest.mark.parametrize("scope", ["channel", "workspace"])
async def test_board_reads_attempts_through_the_board_index(
    filled: Any, since: datetime | None, scope: str
) -> None:
    db, channels, _ = filled
    pks = channels[:1] if scope == "channel" else channels
    # a workspace is half of these tables (a scan is cheaper on PostgreSQL); on a real
    # server's data it is a sliver of a year's attempts
    plan = await _plan(db, lambda q: q.board(pks, since, 5), "board_totals",
                       force=scope == "workspace")
    if since is None and db.dialect == "postgresql":
        # all time: the scope's posts, then their attempts by post (either index by post)
        assert "ix_attempts_board" in plan or "uq_attempts_post_id_user_pk" in plan, plan
    else:
        assert "ix_attempts_board" in plan, plan
    if db.dialect == "sqlite":
        assert "ix_posts_channel_status" in plan, plan
    no_full_scan(plan, "attempts")
    if since is not None:
        # the period's start bounds the index range: only the period's rows are read
        assert "first_at>" in plan.replace(" ", "") if db.dialect == "sqlite" else \
            "first_at >=" in plan, plan


async def test_streak_facts_read_the_users_attempts_through_their_index(filled: Any) -> None:
    db, channels, users = filled
    plan = await _plan(db, lambda q: q.first_attempts(channels, users), "user_pk IN")
    assert "ix_attempts_user" in plan, plan
    no_full_scan(plan, "attempts")


async def test_sent_posts_come_from_the_posts_index(filled: Any) -> None:
    db, channels, _ = filled
    plan = await _plan(db, lambda q: q.sent_posts(channels), "posted_at")
    if db.dialect == "sqlite":
        assert "ix_posts_channel_status" in plan, plan


async def test_streak_window_reads_posts_and_answers_through_their_indexes(filled: Any
                                                                          ) -> None:
    """The streak window's cut is a short range of the posts index per channel (no
    window function over a channel's whole history), and the shown members' answers
    come from their own index."""
    db, channels, users = filled
    plan = await _plan(db, lambda q: q.recent_streak_facts(channels, users, 16),
                       "streak_cut", force=True)
    if db.dialect == "sqlite":
        assert "ix_posts_channel_status" in plan, plan
        assert "ix_attempts_user" in plan, plan
    else:
        assert "ix_attempts_user" in plan or "uq_attempts_post_id_user_pk" in plan, plan
    no_full_scan(plan, "posts")
    no_full_scan(plan, "attempts")


async def _with_totals(db: Database) -> None:
    async with db.uow() as uow:
        await uow.queries.rebuild_totals()
        await uow.commit()


@pytest.mark.parametrize("caller", [3, None], ids=["caller", "nobody"])
@pytest.mark.parametrize("scope", ["channel", "workspace"])
async def test_all_time_board_reads_only_index_ranges_of_the_totals(
    filled: Any, scope: str, caller: int | None
) -> None:
    """All time: no attempts at all, and of the totals only ranges of the rank index
    (the cut, the top, the counts above) and the primary key (the caller's points)."""
    db, channels, _ = filled
    await _with_totals(db)
    if scope == "channel":
        table, run = "board_channel_totals", (
            lambda q: q.board_all_time(channels[0], None, caller, 10))
    else:
        table, run = "board_workspace_totals", (
            lambda q: q.board_all_time(None, ("console", "w"), caller, 10))
    plan = await _plan(db, run, "board_top", force=True)
    assert "attempts" not in plan, plan
    assert f"ix_{table}_rank" in plan, plan
    no_full_scan(plan, table)
    no_full_scan(plan, "users")
    if db.dialect == "sqlite":
        # every read of the totals is a SEARCH (an index range), none a SCAN
        reads = [line for line in plan.splitlines() if table in line or " above " in line]
        assert reads and all("SEARCH" in line for line in reads), plan


async def test_board_place_is_two_index_lookups(filled: Any) -> None:
    db, _, _ = filled
    plan = await _plan(db, lambda q: q.board_place("console", "w", "c1", "u3", False),
                       "timezone", force=True)
    if db.dialect == "sqlite":
        assert "SEARCH channels" in plan and "SEARCH users" in plan, plan
    no_full_scan(plan, "channels")
    no_full_scan(plan, "users")


@pytest.mark.parametrize("caller", [3, None], ids=["caller", "nobody"])
@pytest.mark.parametrize("scope", ["channel", "workspace"])
async def test_week_board_reads_only_index_ranges_of_its_period(
    filled: Any, scope: str, caller: int | None
) -> None:
    """A week or month board (migration 0005): the period is filled once through the
    attempts' board index and the period's start; the board then reads ranges of the
    period totals' rank index and no attempt."""
    db, channels, _ = filled
    platform_scope = ("console", "w", channels[0] if scope == "channel" else 0)
    keep = SINCE + timedelta(days=8)
    fill = await _plan(db, lambda q: q.make_period(platform_scope, SINCE, keep, NOW),
                       "INSERT INTO board_period_totals", force=True)
    assert "ix_attempts_board" in fill, fill
    no_full_scan(fill, "attempts")
    async with db.uow() as uow:
        period = await uow.queries.make_period(platform_scope, SINCE, keep, NOW)
        await uow.commit()
    assert period is not None
    plan = await _plan(db, lambda q: q.board_of_period(period, caller, 10), "board_top",
                       force=True)
    assert "attempts" not in plan, plan
    assert "ix_board_period_totals_rank" in plan, plan
    no_full_scan(plan, "board_period_totals")
    no_full_scan(plan, "users")
    if db.dialect == "sqlite":
        reads = [line for line in plan.splitlines()
                 if "board_period_totals" in line or " above " in line]
        assert reads and all("SEARCH" in line for line in reads), plan


@pytest.mark.parametrize("kind", ["channel", "workspace", "period"])
async def test_tie_group_count_reads_index_ranges_only(filled: Any, kind: str) -> None:
    """The caller's place in their tie group (Queries.tie_group_ahead): each channel's
    last scheduled posts as a range of the posts index (from the cut on), the answers to
    them by post through the attempts' board index, the group's members as a range of
    the totals' rank index; no full scan of posts, attempts or totals."""
    from sqlalchemy import select

    from storage.models import ChannelTotalRow, PeriodTotalRow, WorkspaceTotalRow
    from storage.queries import TieGroup

    db, channels, _ = filled
    await _with_totals(db)
    key: tuple[Any, ...]
    table: Any
    if kind == "channel":
        table, key, pks = ChannelTotalRow, (channels[0],), channels[:1]
        scope = [ChannelTotalRow.channel_pk == channels[0]]
    elif kind == "workspace":
        table, key, pks = WorkspaceTotalRow, ("console", "w"), channels
        scope = [WorkspaceTotalRow.platform == "console", WorkspaceTotalRow.workspace_id == "w"]
    else:
        async with db.uow() as uow:
            period = await uow.queries.make_period(("console", "w", 0), SINCE,
                                                   SINCE + timedelta(days=8), NOW)
            await uow.commit()
        assert period is not None
        table, key, pks = PeriodTotalRow, (period,), channels
        scope = [PeriodTotalRow.period_id == period]
    async with db.uow() as uow:
        points, first_at = (await uow.session.execute(
            select(table.points, table.first_at).where(*scope, table.user_pk == 3))).one()
    group = TieGroup(kind, key, points)
    plan = await _plan(db, lambda q: q.tie_group_ahead(pks, group, 3, 2, first_at),
                       "tie_cut", force=True)
    totals = table.__tablename__
    assert "ix_attempts_board" in plan or (
        db.dialect == "postgresql" and "uq_attempts_post_id_user_pk" in plan), plan
    # PostgreSQL may go from the few answers to their members by primary key instead
    assert f"ix_{totals}_rank" in plan or (
        db.dialect == "postgresql" and f"pk_{totals}" in plan), plan
    for name in ("posts", "attempts", totals):
        no_full_scan(plan, name)
    if db.dialect == "sqlite":
        # the window is a range from the cut on, not the channels' whole history
        assert "ix_posts_channel_status (channel_pk=? AND status=? AND posted_at>?)" in plan, plan
        reads = [line for line in plan.splitlines() if totals in line]
        assert reads and all("SEARCH" in line for line in reads), plan
    else:
        assert "ix_posts_channel_status" in plan, plan
