"""Read models for results, leaderboards and stats: plain rows, no ORM objects, so the
service can hand them to the pure rules as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AttemptRow, ChannelRow, PostRow, QuestionRow, UserRow
from storage.repositories import SENT


@dataclass(frozen=True)
class UserTotal:
    user_pk: int
    user_id: str
    display_name: str
    points: float
    first_answer_at: datetime


@dataclass(frozen=True)
class BoardRow:
    """One member's total on a board, with `points_rank`: 1 + how many members have
    strictly more points (the rank before the streak and first-answer tie-breaks)."""

    total: UserTotal
    points_rank: int


@dataclass(frozen=True)
class SentPost:
    """A sent post as the streak rule needs it (no ORM row, no question)."""

    id: int
    channel_pk: int
    posted_at: datetime
    scheduled: bool


@dataclass(frozen=True)
class FirstAttempt:
    post_id: int
    user_pk: int
    first_at: datetime


@dataclass(frozen=True)
class AttemptFact:
    post_id: int
    user_pk: int
    first_at: datetime
    correct: bool | None
    topic: str


class Queries:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def workspace_channels(self, platform: str, workspace_id: str) -> list[int]:
        stmt = select(ChannelRow.id).where(
            ChannelRow.platform == platform, ChannelRow.workspace_id == workspace_id
        )
        return list((await self.session.scalars(stmt)).all())

    async def board(
        self, channel_pks: Sequence[int], since: datetime | None, caller_pk: int | None,
        top: int = 10,
    ) -> list[BoardRow]:
        """The board's candidates, ranked by points in the database: every member whose
        points rank is within `top` (so the whole tie group at the boundary, whose order
        the streak decides), plus every member tied on points with the caller. One
        statement: the totals are summed once, so equal points compare equal.

        Reads attempts through ix_attempts_board (post_id, first_at, user_pk, points):
        the posts of the scope, and for a week or month only the attempts since then."""
        per_user = (
            select(
                AttemptRow.user_pk.label("user_pk"),
                func.sum(AttemptRow.points).label("points"),
                func.min(AttemptRow.first_at).label("first_at"),
            )
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
            .group_by(AttemptRow.user_pk)
        )
        if since is not None:
            per_user = per_user.where(AttemptRow.first_at >= since)
        totals = per_user.cte("board_totals")
        ranked = select(
            totals.c.user_pk,
            totals.c.points,
            totals.c.first_at,
            func.rank().over(order_by=totals.c.points.desc()).label("points_rank"),
        ).cte("board_ranked")
        keep = ranked.c.points_rank <= top
        if caller_pk is not None:
            mine = select(ranked.c.points).where(ranked.c.user_pk == caller_pk).scalar_subquery()
            keep = or_(keep, ranked.c.points == mine)
        stmt = (
            select(
                ranked.c.user_pk,
                UserRow.user_id,
                UserRow.display_name,
                ranked.c.points,
                ranked.c.first_at,
                ranked.c.points_rank,
            )
            .join(UserRow, UserRow.id == ranked.c.user_pk)
            .where(keep)
            .order_by(ranked.c.points_rank, ranked.c.first_at, UserRow.user_id)
        )
        rows = (await self.session.execute(stmt)).all()
        return [
            BoardRow(
                UserTotal(
                    user_pk=pk,
                    user_id=uid,
                    display_name=name,
                    points=float(points or 0.0),
                    first_answer_at=_aware(first),
                ),
                points_rank=int(prank),
            )
            for pk, uid, name, points, first, prank in rows
        ]

    async def sent_posts(self, channel_pks: Sequence[int]) -> list[SentPost]:
        """The channels' sent posts in posting order, as tuples (ix_posts_board)."""
        stmt = (
            select(PostRow.id, PostRow.channel_pk, PostRow.posted_at, PostRow.day.is_not(None))
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
            .order_by(PostRow.posted_at, PostRow.id)
        )
        rows = (await self.session.execute(stmt)).all()
        out = []
        for pk, channel_pk, posted_at, scheduled in rows:
            assert posted_at is not None
            out.append(SentPost(pk, channel_pk, _aware(posted_at), bool(scheduled)))
        return out

    async def recent_sent_posts(
        self, channel_pks: Sequence[int], scheduled: int
    ) -> tuple[list[SentPost], set[int]]:
        """Each channel's sent posts from its `scheduled`-th last scheduled post on, in
        posting order, and the channels whose whole history that is (no more scheduled
        posts before). The cut is found in the database (ix_posts_channel_status)."""
        marks = (
            select(
                PostRow.channel_pk.label("channel_pk"),
                PostRow.posted_at.label("posted_at"),
                func.row_number().over(
                    partition_by=PostRow.channel_pk,
                    order_by=(PostRow.posted_at.desc(), PostRow.id.desc()),
                ).label("n"),
                func.count().over(partition_by=PostRow.channel_pk).label("total"),
            )
            .where(
                PostRow.channel_pk.in_(channel_pks),
                PostRow.status == SENT,
                PostRow.day.is_not(None),
            )
            .cte("recent_marks")
        )
        cut = (
            select(
                marks.c.channel_pk,
                func.min(marks.c.posted_at).label("since"),
                func.max(marks.c.total).label("total"),
            )
            .where(marks.c.n <= scheduled)
            .group_by(marks.c.channel_pk)
            .cte("recent_cut")
        )
        stmt = (
            select(
                PostRow.id, PostRow.channel_pk, PostRow.posted_at, PostRow.day.is_not(None),
                cut.c.total,
            )
            .join(cut, cut.c.channel_pk == PostRow.channel_pk)
            .where(
                PostRow.channel_pk.in_(channel_pks),
                PostRow.status == SENT,
                PostRow.posted_at >= cut.c.since,
            )
            .order_by(PostRow.posted_at, PostRow.id)
        )
        rows = (await self.session.execute(stmt)).all()
        posts: list[SentPost] = []
        complete: set[int] = set()
        for pk, channel_pk, posted_at, is_scheduled, total in rows:
            posts.append(SentPost(pk, channel_pk, _aware(posted_at), bool(is_scheduled)))
            if int(total) <= scheduled:
                complete.add(channel_pk)
        return posts, complete

    async def first_attempts(
        self, channel_pks: Sequence[int], user_pks: Sequence[int],
        posted_since: datetime | None = None,
    ) -> list[FirstAttempt]:
        """When each of these users first answered each sent post of these channels
        (posted since `posted_since`, if given), read through ix_attempts_user
        (user_pk, post_id, first_at)."""
        if not user_pks:
            return []
        stmt = (
            select(AttemptRow.post_id, AttemptRow.user_pk, AttemptRow.first_at)
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .where(
                AttemptRow.user_pk.in_(user_pks),
                PostRow.channel_pk.in_(channel_pks),
                PostRow.status == SENT,
            )
        )
        if posted_since is not None:
            stmt = stmt.where(PostRow.posted_at >= posted_since)
        rows = (await self.session.execute(stmt)).all()
        return [FirstAttempt(p, u, _aware(f)) for p, u, f in rows]

    async def attempt_facts(
        self, channel_pks: Sequence[int], user_pk: int | None = None
    ) -> list[AttemptFact]:
        stmt = (
            select(
                AttemptRow.post_id,
                AttemptRow.user_pk,
                AttemptRow.first_at,
                AttemptRow.correct,
                QuestionRow.topic,
            )
            .join(PostRow, PostRow.id == AttemptRow.post_id)
            .join(QuestionRow, QuestionRow.id == PostRow.question_id)
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
        )
        if user_pk is not None:
            stmt = stmt.where(AttemptRow.user_pk == user_pk)
        rows = (await self.session.execute(stmt)).all()
        return [
            AttemptFact(post_id=p, user_pk=u, first_at=_aware(f), correct=c, topic=t)
            for p, u, f, c, t in rows
        ]


def _aware(value: datetime | str) -> datetime:
    """Aggregates (min) bypass the column's TypeDecorator on SQLite: normalise here."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
