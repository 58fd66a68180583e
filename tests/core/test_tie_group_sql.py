"""The caller's place in their tie group, counted by the database
(Queries.tie_group_ahead), is the place the pure rules give: compute_streak for every
member's current streak (the best over the scope's channels), then place_in_group.

Random channels with scheduled and extra posts (some not sent, some posted at the same
instant), and answers made before, exactly at or after the next scheduled post, with
first answers often equal, so every edge of "counted", of the latest post still open and
of the first-answer tie is reached. Every member of every tie group is the caller in
turn, on all three totals the boards read: a channel's, the workspace's and a period's.
SQLite always; PostgreSQL when QOTD_TEST_DATABASE_URL is set (fewer examples)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from bot.rules.ranking import Standing, place_in_group
from bot.rules.streaks import PostMoment, compute_streak
from storage.models import (
    AttemptRow,
    ChannelRow,
    ChannelTotalRow,
    PeriodTotalRow,
    PostRow,
    QuestionRow,
    UserRow,
    WorkspaceTotalRow,
)
from storage.queries import TieGroup
from storage.uow import Database

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CHANNELS = (1, 2, 3)
USERS = tuple(range(1, 8))


@dataclass(frozen=True)
class Post:
    id: int
    channel_pk: int
    posted_at: datetime
    scheduled: bool
    sent: bool


@dataclass(frozen=True)
class Answer:
    post_id: int
    user_pk: int
    first_at: datetime
    points: float


@st.composite
def servers(draw: st.DrawFn) -> tuple[list[Post], list[Answer]]:
    posts: list[Post] = []
    for channel_pk in CHANNELS:
        at = T0
        for _ in range(draw(st.integers(0, 7))):
            # a gap of 0 hours: two posts at the same instant (ordered by id)
            at += HOUR * draw(st.sampled_from([0, 1, 2, 24]))
            posts.append(Post(len(posts) + 1, channel_pk, at,
                              scheduled=draw(st.integers(0, 4)) > 0,
                              sent=draw(st.integers(0, 9)) > 0))
    answers = []
    for post in posts:
        for user_pk in USERS:
            if draw(st.integers(0, 2)):
                # on the hour: often exactly the next post's time (too late), or equal
                # to another member's first answer
                late = HOUR * draw(st.sampled_from([0, 1, 2, 3, 25]))
                answers.append(Answer(post.id, user_pk, post.posted_at + late,
                                      float(draw(st.sampled_from([0, 1, 1, 2])))))
    return posts, answers


async def _store(db: Database, posts: list[Post], answers: list[Answer]) -> None:
    async with db.uow() as uow:
        s = uow.session
        for table in (AttemptRow, PostRow, PeriodTotalRow, ChannelTotalRow, WorkspaceTotalRow):
            await s.execute(delete(table))
        if not (await s.execute(select(QuestionRow.id))).first():
            await s.execute(insert(QuestionRow), [{
                "id": "q1", "status": "active", "topic": "T", "difficulty": "easy",
                "kind": "choice", "group_key": "q1", "retired": False, "data": {},
                "synced_at": T0,
            }])
            await s.execute(insert(ChannelRow), [{
                "id": c, "platform": "console", "workspace_id": "w", "channel_id": f"c{c}",
                "scheduled": True, "paused": False, "post_time": "09:00", "timezone": "UTC",
                "days": "daily", "cycle": 1, "draws": 0, "include_topics": [],
                "exclude_topics": [], "created_at": T0,
            } for c in CHANNELS])
            await s.execute(insert(UserRow), [{
                "id": u, "platform": "console", "workspace_id": "w", "user_id": f"u{u}",
                "display_name": f"U{u}", "updated_at": T0,
            } for u in USERS])
        if posts:
            await s.execute(insert(PostRow), [{
                "id": p.id, "channel_pk": p.channel_pk,
                "day": date(2027, 1, 1) + timedelta(days=p.id) if p.scheduled else None,
                "status": "sent" if p.sent else "skipped", "question_id": "q1",
                "claimed_at": p.posted_at, "posted_at": p.posted_at if p.sent else None,
                "send_token": 0, "send_attempts": 0, "reveal_token": 0, "reveal_attempts": 0,
            } for p in posts])
        if answers:
            await s.execute(insert(AttemptRow), [{
                "post_id": a.post_id, "user_pk": a.user_pk, "points": a.points,
                "first_at": a.first_at, "updated_at": a.first_at, "peeked_before": False,
                "after_reveal": False,
            } for a in answers])
        await uow.queries.rebuild_totals()
        await uow.commit()


def _current_streak(posts: list[Post], answers: list[Answer], pks: tuple[int, ...],
                    user_pk: int) -> int:
    """The pure rule's current streak, the best over the channels (as the board's)."""
    best = 0
    for channel_pk in pks:
        sent = sorted((p for p in posts if p.channel_pk == channel_pk and p.sent),
                      key=lambda p: (p.posted_at, p.id))
        ids = {p.id for p in sent}
        mine = {a.post_id: a.first_at for a in answers
                if a.user_pk == user_pk and a.post_id in ids}
        moments = [PostMoment(p.id, p.posted_at, p.scheduled) for p in sent]
        best = max(best, compute_streak(moments, mine).current)
    return best


async def _check(db: Database, posts: list[Post], answers: list[Answer]) -> int:
    await _store(db, posts, answers)
    async with db.uow() as uow:
        period = await uow.queries.make_period(("console", "w", 0), T0 + 30 * HOUR,
                                               T0 + 1000 * HOUR, T0)
        await uow.commit()
    assert period is not None
    sources: list[tuple[str, tuple[Any, ...], Any, list[Any], tuple[int, ...]]] = [
        ("channel", (2,), ChannelTotalRow, [ChannelTotalRow.channel_pk == 2], (2,)),
        ("workspace", ("console", "w"), WorkspaceTotalRow,
         [WorkspaceTotalRow.platform == "console", WorkspaceTotalRow.workspace_id == "w"],
         CHANNELS),
        ("period", (period,), PeriodTotalRow, [PeriodTotalRow.period_id == period], CHANNELS),
    ]
    checked = 0
    async with db.uow() as uow:
        for kind, key, table, scope, pks in sources:
            totals = (await uow.session.execute(
                select(table.user_pk, table.points, table.first_at).where(*scope))).all()
            streak = {u: _current_streak(posts, answers, pks, u) for u, _, _ in totals}
            for caller, points, first_at in totals:
                mine = Standing(f"u{caller}", "", points, streak[caller], first_at)
                group = [(p, streak[u], f) for u, p, f in totals if p == points and u != caller]
                want = place_in_group(mine, group) - 1
                got = await uow.queries.tie_group_ahead(
                    pks, TieGroup(kind, key, points), caller, streak[caller], first_at)
                assert got == want, (kind, caller, streak, totals)
                checked += bool(group)
    return checked


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_url)
    try:
        yield database
    finally:
        await database.dispose()


def _property(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@_property(200)
@given(server=servers())
async def test_the_database_places_the_caller_as_the_rules_do_sqlite(
    db: Database, server: tuple[list[Post], list[Answer]]
) -> None:
    await _check(db, *server)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@_property(40)
@given(server=servers())
async def test_the_database_places_the_caller_as_the_rules_do_postgresql(
    db: Database, server: tuple[list[Post], list[Answer]]
) -> None:
    await _check(db, *server)


async def test_a_hand_made_tie_group_is_placed_by_streak_then_first_answer(db: Database
                                                                          ) -> None:
    """One channel, four scheduled posts and an extra one; everyone has 1 point. The
    counted cases: the latest post unanswered keeps the run; an answer at the next
    post's time is too late; the extra post adds nothing."""
    posts = [Post(i, 2, T0 + 24 * HOUR * i, scheduled=i != 3, sent=True) for i in range(1, 6)]

    def answered(user: int, *ids: int, late: int = 1) -> list[Answer]:
        pts = [1.0] + [0.0] * (len(ids) - 1)
        return [Answer(i, user, posts[i - 1].posted_at + late * HOUR, p)
                for i, p in zip(ids, pts, strict=True)]

    answers = (answered(1, 1, 2, 4)  # streak 3: posts 1, 2, 4 (3 is extra), 5 still open
               + answered(2, 2, 3, 4, 5)  # streak 3 (2, 4, 5), answered later than 1
               + answered(3, 4, 5)  # streak 2
               + answered(4, 4, late=0)  # streak 1, answered as post 4 came
               + answered(5, 1, 2, late=24))  # answers at the next post's time: 0
    assert await _check(db, posts, answers) > 0
